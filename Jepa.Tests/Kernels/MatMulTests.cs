using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class MatMulTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    /// <summary>Float64 reference: C[i] = α·op(A[i])·op(B[i]) + β·C0[i] (C0 absent means zeros, elements between
    /// C matrices stay as they are); a C stride of 0 sums the batch into one C. Returns the whole C buffer, <paramref name="cLength"/> elements.</summary>
    private static double[] Expected(MatMulForm form, double[] a, double[] b, double[]? c0, int M, int N, int K,
        MatMulBatch s, double alpha, double beta, int cLength)
    {
        var c = c0 is null ? new double[cLength] : (double[])c0.Clone();
        for (int z = 0; z < (s.StrideC == 0 ? 1 : s.Count); z++)   // β scales each C matrix once, not the gaps
            for (int i = 0; i < M * N; i++) c[z * s.StrideC + i] *= beta;
        for (int z = 0; z < s.Count; z++)
        {
            long ao = z * s.StrideA, bo = z * s.StrideB, co = z * s.StrideC;
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++)
                {
                    double sum = 0;
                    for (int k = 0; k < K; k++)
                    {
                        double av = form == MatMulForm.TN ? a[ao + (long)k * M + m] : a[ao + (long)m * K + k];
                        double bv = form == MatMulForm.NT ? b[bo + (long)n * K + k] : b[bo + (long)k * N + n];
                        sum += av * bv;
                    }
                    c[co + (long)m * N + n] += alpha * sum;
                }
        }
        return c;
    }

    private static int Extent(int count, long stride, int size) => (int)((count - 1) * stride + size);

    public static TheoryData<MatMulForm, int, int, int> Shapes()
    {
        var d = new TheoryData<MatMulForm, int, int, int>();
        foreach (var form in new[] { MatMulForm.NN, MatMulForm.NT, MatMulForm.TN })
            foreach (var (m, n, k) in new[] { (1, 1, 1), (37, 29, 45), (65, 33, 17), (33, 70, 100) })
                d.Add(form, m, n, k);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesFloat64(MatMulForm form, int M, int N, int K)
    {
        var a = Reference.Random(M * K, 11); var b = Reference.Random(K * N, 12);
        using var ta = f.Upload(a, M * K); using var tb = f.Upload(b, K * N);
        // β = 0 must not read C: start it as NaN.
        using var tc = f.Upload(Enumerable.Repeat(float.NaN, M * N).ToArray(), M * N);
        f.Ops.MatMul.Forward(form, ta.View, tb.View, tc.View, M, N, K);
        var want = Expected(form, Reference.ToDouble(a), Reference.ToDouble(b), null, M, N, K, MatMulBatch.Single, 1, 0, M * N);
        Reference.AssertClose(tc.ToArray(), want, 1e-6, $"{form} {M}×{N}×{K}");
    }

    [Theory]
    [InlineData(MatMulForm.NN)]
    [InlineData(MatMulForm.NT)]
    [InlineData(MatMulForm.TN)]
    public void BatchedBroadcastWeightAccumulatesWithAlphaBeta(MatMulForm form)
    {
        const int M = 19, N = 23, K = 13, count = 3;
        // A packed, B shared by the batch (stride 0), C with a gap of 5 elements between matrices.
        var s = new MatMulBatch(count, M * K, 0, M * N + 5);
        int la = Extent(count, s.StrideA, M * K), lb = K * N, lc = Extent(count, s.StrideC, M * N);
        var a = Reference.Random(la, 21); var b = Reference.Random(lb, 22); var c0 = Reference.Random(lc, 23);
        using var ta = f.Upload(a, la); using var tb = f.Upload(b, lb); using var tc = f.Upload(c0, lc);
        f.Ops.MatMul.Forward(form, ta.View, tb.View, tc.View, M, N, K, alpha: 0.75f, beta: -1.5f, batch: s);
        var want = Expected(form, Reference.ToDouble(a), Reference.ToDouble(b), Reference.ToDouble(c0), M, N, K, s, 0.75, -1.5, lc);
        Reference.AssertClose(tc.ToArray(), want, 1e-6, $"{form} batched");
    }

    [Fact]
    public void ZeroOutputStrideSumsTheBatch()
    {
        const int M = 9, N = 35, K = 40, count = 4;
        var s = new MatMulBatch(count, M * K, K * N, 0);
        var a = Reference.Random(count * M * K, 31); var b = Reference.Random(count * K * N, 32); var c0 = Reference.Random(M * N, 33);
        using var ta = f.Upload(a, a.Length); using var tb = f.Upload(b, b.Length); using var tc = f.Upload(c0, M * N);
        f.Ops.MatMul.Forward(MatMulForm.NN, ta.View, tb.View, tc.View, M, N, K, beta: 1f, batch: s);
        var want = Expected(MatMulForm.NN, Reference.ToDouble(a), Reference.ToDouble(b), Reference.ToDouble(c0), M, N, K, s, 1, 1, M * N);
        Reference.AssertClose(tc.ToArray(), want, 1e-6, "batch sum");
    }

    /// <summary>Backward of every form against central finite differences of the float64 forward, batched with
    /// a broadcast B (so dB sums over the batch), gradients starting non-zero (the += convention).</summary>
    [Theory]
    [InlineData(MatMulForm.NT, 1, 9, 6, 11)]   // linear layer y[BT, OC] = x[BT, C]·W[OC, C]ᵀ
    [InlineData(MatMulForm.NT, 2, 5, 7, 6)]
    [InlineData(MatMulForm.NN, 2, 5, 7, 6)]
    [InlineData(MatMulForm.TN, 2, 5, 7, 6)]
    public void BackwardMatchesFiniteDifferences(MatMulForm form, int count, int M, int N, int K)
    {
        const float alpha = 0.5f;
        var s = count == 1 ? MatMulBatch.Single : new MatMulBatch(count, M * K, 0, M * N);
        int la = Extent(count, s.StrideA, M * K), lb = K * N, lc = Extent(count, s.StrideC, M * N);
        var a = Reference.Random(la, 41); var b = Reference.Random(lb, 42); var w = Reference.Random(lc, 43);
        var da0 = Reference.Random(la, 44); var db0 = Reference.Random(lb, 45);
        using var ta = f.Upload(a, la); using var tb = f.Upload(b, lb); using var tdc = f.Upload(w, lc);
        using var tda = f.Upload(da0, la); using var tdb = f.Upload(db0, lb);
        f.Ops.MatMul.Backward(form, tdc.View, ta.View, tb.View, tda.View, tdb.View, M, N, K, alpha, s);

        double[] ad = Reference.ToDouble(a), bd = Reference.ToDouble(b), wd = Reference.ToDouble(w);
        double Loss(double[] x, double[] y) => GradCheck.Dot(Expected(form, x, y, null, M, N, K, s, alpha, 0, lc), wd);
        var numA = GradCheck.Numeric(x => Loss(x, bd), ad);
        var numB = GradCheck.Numeric(y => Loss(ad, y), bd);
        Reference.AssertClose(tda.ToArray(), numA.Select((g, i) => da0[i] + g).ToArray(), 1e-6, $"{form} dA");
        Reference.AssertClose(tdb.ToArray(), numB.Select((g, i) => db0[i] + g).ToArray(), 1e-6, $"{form} dB");
    }

    private static float[] Run(KernelLibrary ops, MatMulForm form, float[] a, float[] b, int M, int N, int K)
    {
        using var ta = Tensor.FromArray(ops.Device, a, a.Length); using var tb = Tensor.FromArray(ops.Device, b, b.Length);
        using var tc = Tensor.Empty(ops.Device, M * N);
        ops.MatMul.Forward(form, ta.View, tb.View, tc.View, M, N, K);
        return tc.ToArray();
    }

    [Theory]
    [InlineData(MatMulForm.NT)]
    [InlineData(MatMulForm.TN)]
    public void ForwardIsBitwiseDeterministic(MatMulForm form)
    {
        const int M = 65, N = 47, K = 77;
        var a = Reference.Random(M * K, 51); var b = Reference.Random(K * N, 52);
        var first = Run(f.Ops, form, a, b, M, N, K);
        Reference.AssertBitwiseEqual(first, Run(f.Ops, form, a, b, M, N, K), "twice");
        using var d1 = Device.Cpu(cpuChunks: 1);
        using var d3 = Device.Cpu(cpuChunks: 3);
        var one = Run(new KernelLibrary(d1), form, a, b, M, N, K);
        Reference.AssertBitwiseEqual(one, Run(new KernelLibrary(d3), form, a, b, M, N, K), "cpuChunks 1 vs 3");
        Reference.AssertBitwiseEqual(first, one, "cpuChunks 2 vs 1");
    }

    [Fact]
    public void TileSizesDoNotChangeTheResult()
    {
        const int M = 45, N = 38, K = 70;
        var a = Reference.Random(M * K, 61); var b = Reference.Random(N * K, 62);
        var want = Run(f.Ops, MatMulForm.NT, a, b, M, N, K);
        foreach (var tile in new[] { (16, 16, 16), (8, 32, 5), (4, 8, 3) })
        {
            var mm = new MatMul(f.Ops.Cache, tile);
            using var ta = f.Upload(a, a.Length); using var tb = f.Upload(b, b.Length); using var tc = Tensor.Empty(f.Device, M * N);
            mm.Forward(MatMulForm.NT, ta.View, tb.View, tc.View, M, N, K);
            Reference.AssertBitwiseEqual(want, tc.ToArray(), $"tile {tile} vs {f.Ops.MatMul.Tile}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new MatMul(f.Ops.Cache, (6, 8, 8)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MatMul(f.Ops.Cache, (64, 64, 8)));
    }

    [Fact]
    public void BadArgumentsAreClearErrors()
    {
        using var x = Tensor.Zeros(f.Device, 12);
        var e = Assert.Throws<ArgumentException>(() => f.Ops.MatMul.Forward(MatMulForm.NN, x.View, x.View, x.View, 3, 5, 4));
        Assert.Contains("MatMul", e.Message);
        Assert.Contains("'b'", e.Message);
        Assert.Contains("need 20", e.Message);

        e = Assert.Throws<ArgumentException>(() => f.Ops.MatMul.BackwardB(MatMulForm.NT, x.View, x.View, x.View, 2, 2, 2, batch: new MatMulBatch(2, 4, 2, 4)));
        Assert.Contains("'db'", e.Message);
        Assert.Contains("overlap", e.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => f.Ops.MatMul.Forward(MatMulForm.NT, x.View, x.View, x.View, 2, 0, 2));
    }
}
