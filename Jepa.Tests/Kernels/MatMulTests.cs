using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

/// <summary>MatMul on both paths of the CPU accelerator: the ILGPU kernel (forced with <see cref="KernelPath.Kernel"/>)
/// and the SIMD host path (the default there). Host-path specifics are in <see cref="MatMulCpuTests"/>.</summary>
public sealed class MatMulTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    /// <summary>The op on <paramref name="path"/>: the library's own (host) instance, or one forced onto the kernel.</summary>
    private static MatMul Op(KernelLibrary ops, KernelPath path) =>
        path == KernelPath.Kernel ? new MatMul(ops.Cache, path: KernelPath.Kernel) : ops.MatMul;

    private static readonly KernelPath[] Paths = [KernelPath.Kernel, KernelPath.Host];

    /// <summary>Float64 reference: C[i] = α·op(A[i])·op(B[i]) + β·C0[i] (C0 absent means zeros, elements between
    /// C matrices stay as they are); a C stride of 0 sums the batch into one C. Returns the whole C buffer, <paramref name="cLength"/> elements.</summary>
    internal static double[] Expected(MatMulForm form, double[] a, double[] b, double[]? c0, int M, int N, int K,
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

    internal static int Extent(int count, long stride, int size) => (int)((count - 1) * stride + size);

    /// <summary>Small odd shapes on both paths, plus shapes for the host path that cross every block of it
    /// (several row and column tasks, A row blocks and K blocks, partial edge tiles).</summary>
    public static TheoryData<KernelPath, MatMulForm, int, int, int> Shapes()
    {
        var d = new TheoryData<KernelPath, MatMulForm, int, int, int>();
        foreach (var form in new[] { MatMulForm.NN, MatMulForm.NT, MatMulForm.TN })
        {
            foreach (var path in Paths)
                foreach (var (m, n, k) in new[] { (1, 1, 1), (37, 29, 45), (65, 33, 17), (33, 70, 100) })
                    d.Add(path, form, m, n, k);
            d.Add(KernelPath.Host, form, 397, 263, 270);
            d.Add(KernelPath.Host, form, 7, 300, 513);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesFloat64(KernelPath path, MatMulForm form, int M, int N, int K)
    {
        var a = Reference.Random(M * K, 11); var b = Reference.Random(K * N, 12);
        using var ta = f.Upload(a, M * K); using var tb = f.Upload(b, K * N);
        // β = 0 must not read C: start it as NaN.
        using var tc = f.Upload(Enumerable.Repeat(float.NaN, M * N).ToArray(), M * N);
        Op(f.Ops, path).Forward(form, ta.View, tb.View, tc.View, M, N, K);
        var want = Expected(form, Reference.ToDouble(a), Reference.ToDouble(b), null, M, N, K, MatMulBatch.Single, 1, 0, M * N);
        Reference.AssertClose(tc.ToArray(), want, 1e-6, $"{path} {form} {M}×{N}×{K}");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, MatMulForm.NN)]
    [InlineData(KernelPath.Kernel, MatMulForm.NT)]
    [InlineData(KernelPath.Kernel, MatMulForm.TN)]
    [InlineData(KernelPath.Host, MatMulForm.NN)]
    [InlineData(KernelPath.Host, MatMulForm.NT)]
    [InlineData(KernelPath.Host, MatMulForm.TN)]
    public void BatchedBroadcastWeightAccumulatesWithAlphaBeta(KernelPath path, MatMulForm form)
    {
        const int M = 19, N = 23, K = 13, count = 3;
        // A packed, B shared by the batch (stride 0), C with a gap of 5 elements between matrices.
        var s = new MatMulBatch(count, M * K, 0, M * N + 5);
        int la = Extent(count, s.StrideA, M * K), lb = K * N, lc = Extent(count, s.StrideC, M * N);
        var a = Reference.Random(la, 21); var b = Reference.Random(lb, 22); var c0 = Reference.Random(lc, 23);
        using var ta = f.Upload(a, la); using var tb = f.Upload(b, lb); using var tc = f.Upload(c0, lc);
        Op(f.Ops, path).Forward(form, ta.View, tb.View, tc.View, M, N, K, alpha: 0.75f, beta: -1.5f, batch: s);
        var want = Expected(form, Reference.ToDouble(a), Reference.ToDouble(b), Reference.ToDouble(c0), M, N, K, s, 0.75, -1.5, lc);
        Reference.AssertClose(tc.ToArray(), want, 1e-6, $"{path} {form} batched");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void ZeroOutputStrideSumsTheBatch(KernelPath path)
    {
        const int M = 9, N = 35, K = 40, count = 4;
        var s = new MatMulBatch(count, M * K, K * N, 0);
        var a = Reference.Random(count * M * K, 31); var b = Reference.Random(count * K * N, 32); var c0 = Reference.Random(M * N, 33);
        using var ta = f.Upload(a, a.Length); using var tb = f.Upload(b, b.Length); using var tc = f.Upload(c0, M * N);
        Op(f.Ops, path).Forward(MatMulForm.NN, ta.View, tb.View, tc.View, M, N, K, beta: 1f, batch: s);
        var want = Expected(MatMulForm.NN, Reference.ToDouble(a), Reference.ToDouble(b), Reference.ToDouble(c0), M, N, K, s, 1, 1, M * N);
        Reference.AssertClose(tc.ToArray(), want, 1e-6, $"{path} batch sum");
    }

    /// <summary>Backward of every form against central finite differences of the float64 forward, batched with
    /// a broadcast B (so dB sums over the batch), gradients starting non-zero (the += convention).</summary>
    [Theory]
    [InlineData(KernelPath.Kernel, MatMulForm.NT, 1, 9, 6, 11)]   // linear layer y[BT, OC] = x[BT, C]·W[OC, C]ᵀ
    [InlineData(KernelPath.Kernel, MatMulForm.NT, 2, 5, 7, 6)]
    [InlineData(KernelPath.Kernel, MatMulForm.NN, 2, 5, 7, 6)]
    [InlineData(KernelPath.Kernel, MatMulForm.TN, 2, 5, 7, 6)]
    [InlineData(KernelPath.Host, MatMulForm.NT, 1, 9, 6, 11)]
    [InlineData(KernelPath.Host, MatMulForm.NT, 2, 5, 7, 6)]
    [InlineData(KernelPath.Host, MatMulForm.NN, 2, 5, 7, 6)]
    [InlineData(KernelPath.Host, MatMulForm.TN, 2, 5, 7, 6)]
    public void BackwardMatchesFiniteDifferences(KernelPath path, MatMulForm form, int count, int M, int N, int K)
    {
        const float alpha = 0.5f;
        var s = count == 1 ? MatMulBatch.Single : new MatMulBatch(count, M * K, 0, M * N);
        int la = Extent(count, s.StrideA, M * K), lb = K * N, lc = Extent(count, s.StrideC, M * N);
        var a = Reference.Random(la, 41); var b = Reference.Random(lb, 42); var w = Reference.Random(lc, 43);
        var da0 = Reference.Random(la, 44); var db0 = Reference.Random(lb, 45);
        using var ta = f.Upload(a, la); using var tb = f.Upload(b, lb); using var tdc = f.Upload(w, lc);
        using var tda = f.Upload(da0, la); using var tdb = f.Upload(db0, lb);
        Op(f.Ops, path).Backward(form, tdc.View, ta.View, tb.View, tda.View, tdb.View, M, N, K, alpha, s);

        double[] ad = Reference.ToDouble(a), bd = Reference.ToDouble(b), wd = Reference.ToDouble(w);
        double Loss(double[] x, double[] y) => GradCheck.Dot(Expected(form, x, y, null, M, N, K, s, alpha, 0, lc), wd);
        var numA = GradCheck.Numeric(x => Loss(x, bd), ad);
        var numB = GradCheck.Numeric(y => Loss(ad, y), bd);
        Reference.AssertClose(tda.ToArray(), numA.Select((g, i) => da0[i] + g).ToArray(), 1e-6, $"{path} {form} dA");
        Reference.AssertClose(tdb.ToArray(), numB.Select((g, i) => db0[i] + g).ToArray(), 1e-6, $"{path} {form} dB");
    }

    private static float[] Run(KernelLibrary ops, KernelPath path, MatMulForm form, float[] a, float[] b, int M, int N, int K)
    {
        using var ta = Tensor.FromArray(ops.Device, a, a.Length); using var tb = Tensor.FromArray(ops.Device, b, b.Length);
        using var tc = Tensor.Empty(ops.Device, M * N);
        Op(ops, path).Forward(form, ta.View, tb.View, tc.View, M, N, K);
        return tc.ToArray();
    }

    /// <summary>Twice on the fixture's device (2 chunks), then on devices with 1 and 3 chunks: bitwise equal. The
    /// host shape has several tasks and K blocks, so threads really split it differently.</summary>
    [Theory]
    [InlineData(KernelPath.Kernel, MatMulForm.NT, 65, 47, 77)]
    [InlineData(KernelPath.Kernel, MatMulForm.TN, 65, 47, 77)]
    [InlineData(KernelPath.Host, MatMulForm.NN, 401, 517, 300)]
    [InlineData(KernelPath.Host, MatMulForm.NT, 401, 517, 300)]
    [InlineData(KernelPath.Host, MatMulForm.TN, 401, 517, 300)]
    public void ForwardIsBitwiseDeterministic(KernelPath path, MatMulForm form, int M, int N, int K)
    {
        var a = Reference.Random(M * K, 51); var b = Reference.Random(K * N, 52);
        var first = Run(f.Ops, path, form, a, b, M, N, K);
        Reference.AssertBitwiseEqual(first, Run(f.Ops, path, form, a, b, M, N, K), $"{path} twice");
        using var d1 = Device.Cpu(cpuChunks: 1);
        using var d3 = Device.Cpu(cpuChunks: 3);
        var one = Run(new KernelLibrary(d1), path, form, a, b, M, N, K);
        Reference.AssertBitwiseEqual(one, Run(new KernelLibrary(d3), path, form, a, b, M, N, K), $"{path} cpuChunks 1 vs 3");
        Reference.AssertBitwiseEqual(first, one, $"{path} cpuChunks 2 vs 1");
    }

    [Fact]
    public void TileSizesDoNotChangeTheResult()
    {
        const int M = 45, N = 38, K = 70;
        var a = Reference.Random(M * K, 61); var b = Reference.Random(N * K, 62);
        var kernel = Op(f.Ops, KernelPath.Kernel);
        var want = Run(f.Ops, KernelPath.Kernel, MatMulForm.NT, a, b, M, N, K);
        foreach (var tile in new[] { (16, 16, 16), (8, 32, 5), (4, 8, 3) })
        {
            var mm = new MatMul(f.Ops.Cache, tile, KernelPath.Kernel);
            using var ta = f.Upload(a, a.Length); using var tb = f.Upload(b, b.Length); using var tc = Tensor.Empty(f.Device, M * N);
            mm.Forward(MatMulForm.NT, ta.View, tb.View, tc.View, M, N, K);
            Reference.AssertBitwiseEqual(want, tc.ToArray(), $"tile {tile} vs {kernel.Tile}");
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
