using ILGPU;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class JepaDistanceTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private const double Tau = JepaDistance.DefaultTemperature;

    private static double Dot(double[] a, int ai, double[] b, int bi, int C)
    {
        double s = 0;
        for (int c = 0; c < C; c++) s += a[ai * C + c] * b[bi * C + c];
        return s;
    }

    /// <summary>Float64 per-pair loss terms, as documented on <see cref="JepaDistance"/>.</summary>
    private static double[] PairsRef(JepaDistanceKind kind, double[] p, double[] t, int B, int C)
    {
        var r = new double[B];
        for (int i = 0; i < B; i++)
        {
            double np = Math.Sqrt(Dot(p, i, p, i, C)), nt = Math.Sqrt(Dot(t, i, t, i, C));
            double dd = 0;
            for (int c = 0; c < C; c++) dd += (p[i * C + c] - t[i * C + c]) * (p[i * C + c] - t[i * C + c]);
            switch (kind)
            {
                case JepaDistanceKind.Cosine: r[i] = 1 - Dot(p, i, t, i, C) / Math.Max(np * nt, JepaDistance.CosineEps); break;
                case JepaDistanceKind.L2: r[i] = Math.Sqrt(dd); break;
                case JepaDistanceKind.Mse: r[i] = dd / C; break;
                case JepaDistanceKind.InfoNce:
                    var logits = new double[B];
                    for (int j = 0; j < B; j++)
                    {
                        double ntj = Math.Sqrt(Dot(t, j, t, j, C));
                        logits[j] = Dot(p, i, t, j, C) / Math.Max(np, JepaDistance.NormalizeEps) / Math.Max(ntj, JepaDistance.NormalizeEps) / Tau;
                    }
                    double m = logits.Max();
                    r[i] = m + Math.Log(logits.Sum(l => Math.Exp(l - m))) - logits[i];
                    break;
            }
        }
        return r;
    }

    private static double LossRef(JepaDistanceKind kind, double[] p, double[] t, int B, int C) => PairsRef(kind, p, t, B, C).Average();

    [Theory]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Cosine, 1, 1)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Cosine, 1, 1)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Cosine, 3, 7)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Cosine, 3, 7)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Cosine, 5, 65)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Cosine, 5, 65)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.L2, 1, 1)]
    [InlineData(KernelPath.Host, JepaDistanceKind.L2, 1, 1)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.L2, 3, 7)]
    [InlineData(KernelPath.Host, JepaDistanceKind.L2, 3, 7)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.L2, 5, 65)]
    [InlineData(KernelPath.Host, JepaDistanceKind.L2, 5, 65)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Mse, 1, 1)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Mse, 1, 1)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Mse, 3, 7)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Mse, 3, 7)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Mse, 5, 65)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Mse, 5, 65)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.InfoNce, 1, 1)]
    [InlineData(KernelPath.Host, JepaDistanceKind.InfoNce, 1, 1)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.InfoNce, 3, 7)]
    [InlineData(KernelPath.Host, JepaDistanceKind.InfoNce, 3, 7)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.InfoNce, 13, 65)]
    [InlineData(KernelPath.Host, JepaDistanceKind.InfoNce, 13, 65)]
    public void ForwardMatchesFloat64(KernelPath path, JepaDistanceKind kind, int B, int C)
    {
        var p = Reference.Random(B * C, 1); var t = Reference.Random(B * C, 2);
        using var tp = f.Upload(p, B, C); using var tt = f.Upload(t, B, C);
        using var pairs = Tensor.Empty(f.Device, B); using var loss = Tensor.Empty(f.Device, 1);
        f.Lib(path).JepaDistance.Forward(kind, tp.View, tt.View, pairs.View, loss.View, B, C);
        var pd = Reference.ToDouble(p); var td = Reference.ToDouble(t);
        Reference.AssertClose(pairs.ToArray(), PairsRef(kind, pd, td, B, C), 1e-5, $"{kind} pairs");
        Reference.AssertClose(loss.ToArray(), [LossRef(kind, pd, td, B, C)], 1e-5, $"{kind} loss");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void CosineSimilarityIsOneMinusTheCosineLossTerm(KernelPath path)
    {
        int B = 4, C = 9;
        var p = Reference.Random(B * C, 3); var t = Reference.Random(B * C, 4);
        using var tp = f.Upload(p, B, C); using var tt = f.Upload(t, B, C); using var cos = Tensor.Empty(f.Device, B);
        f.Lib(path).JepaDistance.CosineSimilarity(tp.View, tt.View, cos.View, B, C);
        var expected = PairsRef(JepaDistanceKind.Cosine, Reference.ToDouble(p), Reference.ToDouble(t), B, C).Select(v => 1 - v).ToArray();
        Reference.AssertClose(cos.ToArray(), expected, 1e-6, "cosine similarity");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Cosine, 3, 7)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Cosine, 3, 7)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Cosine, 4, 65)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Cosine, 4, 65)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.L2, 3, 7)]
    [InlineData(KernelPath.Host, JepaDistanceKind.L2, 3, 7)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.L2, 4, 65)]
    [InlineData(KernelPath.Host, JepaDistanceKind.L2, 4, 65)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Mse, 3, 7)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Mse, 3, 7)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Mse, 4, 65)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Mse, 4, 65)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.InfoNce, 3, 7)]
    [InlineData(KernelPath.Host, JepaDistanceKind.InfoNce, 3, 7)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.InfoNce, 5, 65)]
    [InlineData(KernelPath.Host, JepaDistanceKind.InfoNce, 5, 65)]
    public void BackwardMatchesFiniteDifferencesAndAccumulates(KernelPath path, JepaDistanceKind kind, int B, int C)
    {
        int n = B * C;
        var p = Reference.Random(n, 5); var t = Reference.Random(n, 6);
        var dp0 = Reference.Random(n, 7); var dt0 = Reference.Random(n, 8);
        const float dloss = 0.7f;
        using var tp = f.Upload(p, B, C); using var tt = f.Upload(t, B, C);
        using var dpFresh = Tensor.Zeros(f.Device, B, C); using var dtFresh = Tensor.Zeros(f.Device, B, C);
        using var dp = f.Upload(dp0, B, C); using var dt = f.Upload(dt0, B, C);
        f.Lib(path).JepaDistance.Backward(kind, tp.View, tt.View, dpFresh.View, dtFresh.View, B, C, dloss);
        f.Lib(path).JepaDistance.Backward(kind, tp.View, tt.View, dp.View, dt.View, B, C, dloss);

        var pd = Reference.ToDouble(p); var td = Reference.ToDouble(t);
        var numP = GradCheck.Numeric(ps => dloss * LossRef(kind, ps, td, B, C), pd);
        var numT = GradCheck.Numeric(ts => dloss * LossRef(kind, pd, ts, B, C), td);
        double tol = kind == JepaDistanceKind.InfoNce ? 2e-5 : 1e-5;
        Reference.AssertClose(dpFresh.ToArray(), numP, tol, $"{kind} dp");
        Reference.AssertClose(dtFresh.ToArray(), numT, tol, $"{kind} dt");
        Reference.AssertClose(dp.ToArray(), numP.Select((g, i) => dp0[i] + g).ToArray(), 1e-6, $"{kind} dp accumulated");
        Reference.AssertClose(dt.ToArray(), numT.Select((g, i) => dt0[i] + g).ToArray(), 1e-6, $"{kind} dt accumulated");
    }

    [Fact]
    public void CooperativeRowGroupsMatchFloat64()
    {
        // The GPU path (a 16-thread group per row, two CPU warps, shared-memory tree) run on the CPU
        // accelerator; kept tiny because CPU barriers are slow.
        var jd = new JepaDistance(f.Ops.Cache, rowGroupCap: 16, path: KernelPath.Kernel);
        int B = 2, C = 37;
        var p = Reference.Random(B * C, 18); var t = Reference.Random(B * C, 19);
        var pd = Reference.ToDouble(p); var td = Reference.ToDouble(t);
        using var tp = f.Upload(p, B, C); using var tt = f.Upload(t, B, C);
        using var pairs = Tensor.Empty(f.Device, B); using var loss = Tensor.Empty(f.Device, 1);
        jd.Cosine(tp.View, tt.View, pairs.View, loss.View, B, C);
        Reference.AssertClose(pairs.ToArray(), PairsRef(JepaDistanceKind.Cosine, pd, td, B, C), 1e-5, "cosine pairs");
        using var dp = Tensor.Zeros(f.Device, B, C); using var dt = Tensor.Zeros(f.Device, B, C);
        jd.CosineBackward(tp.View, tt.View, dp.View, dt.View, B, C);
        var numP = GradCheck.Numeric(ps => LossRef(JepaDistanceKind.Cosine, ps, td, B, C), pd);
        Reference.AssertClose(dp.ToArray(), numP, 1e-5, "cosine dp");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.Cosine)]
    [InlineData(KernelPath.Host, JepaDistanceKind.Cosine)]
    [InlineData(KernelPath.Kernel, JepaDistanceKind.InfoNce)]
    [InlineData(KernelPath.Host, JepaDistanceKind.InfoNce)]
    public void EmptyDtSkipsTheTargetGradient(KernelPath path, JepaDistanceKind kind)
    {
        int B = 3, C = 10;
        using var tp = f.Upload(Reference.Random(B * C, 9), B, C); using var tt = f.Upload(Reference.Random(B * C, 10), B, C);
        using var dpBoth = Tensor.Zeros(f.Device, B, C); using var dtBoth = Tensor.Zeros(f.Device, B, C); using var dpOnly = Tensor.Zeros(f.Device, B, C);
        f.Lib(path).JepaDistance.Backward(kind, tp.View, tt.View, dpBoth.View, dtBoth.View, B, C);
        f.Lib(path).JepaDistance.Backward(kind, tp.View, tt.View, dpOnly.View, default, B, C);
        Reference.AssertBitwiseEqual(dpOnly.ToArray(), dpBoth.ToArray(), $"{kind} dp without dt");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void L2GradientAtZeroDistanceIsZero(KernelPath path)
    {
        int B = 2, C = 5;
        var p = Reference.Random(B * C, 11); var t = (float[])p.Clone();
        t[7] += 0.5f; // row 1 differs, row 0 is identical
        using var tp = f.Upload(p, B, C); using var tt = f.Upload(t, B, C);
        using var pairs = Tensor.Empty(f.Device, B); using var loss = Tensor.Empty(f.Device, 1);
        using var dp = Tensor.Zeros(f.Device, B, C); using var dt = Tensor.Zeros(f.Device, B, C);
        f.Lib(path).JepaDistance.L2(tp.View, tt.View, pairs.View, loss.View, B, C);
        f.Lib(path).JepaDistance.L2Backward(tp.View, tt.View, dp.View, dt.View, B, C);
        Assert.Equal(0f, pairs.ToArray()[0]);
        Assert.Equal(0.25f, loss.ToArray()[0], 6);
        var g = dp.ToArray();
        Assert.All(g[..C], v => Assert.Equal(0f, v));
        Assert.Equal(-0.5f, g[7], 6); // dloss/B · (p − t)/‖p − t‖ = 0.5 · (−1)
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void CosineOfAZeroVectorIsClampedNotNaN(KernelPath path)
    {
        int B = 2, C = 4;
        var p = Reference.Random(B * C, 12); var t = Reference.Random(B * C, 13);
        Array.Clear(p, 0, C); // p_0 = 0
        using var tp = f.Upload(p, B, C); using var tt = f.Upload(t, B, C);
        using var pairs = Tensor.Empty(f.Device, B); using var loss = Tensor.Empty(f.Device, 1);
        using var dp = Tensor.Zeros(f.Device, B, C); using var dt = Tensor.Zeros(f.Device, B, C);
        f.Lib(path).JepaDistance.Cosine(tp.View, tt.View, pairs.View, loss.View, B, C);
        f.Lib(path).JepaDistance.CosineBackward(tp.View, tt.View, dp.View, dt.View, B, C);
        Assert.Equal(1f, pairs.ToArray()[0]);
        // Clamped: loss term 1 − p·t/ε, so dp_0 = −(1/B)·t_0/ε and dt_0 = −(1/B)·p_0/ε = 0.
        var expected = t[..C].Select(v => -0.5 * v / JepaDistance.CosineEps).ToArray();
        Reference.AssertClose(dp.ToArray()[..C], expected, 1e-6, "dp of zero row");
        Assert.All(dt.ToArray()[..C], v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void BadTemperatureIsAClearError(KernelPath path)
    {
        using var x = Tensor.Zeros(f.Device, 2, 3); using var pairs = Tensor.Zeros(f.Device, 2); using var loss = Tensor.Zeros(f.Device, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => f.Lib(path).JepaDistance.InfoNce(x.View, x.View, pairs.View, loss.View, 2, 3, 0f));
        Assert.Contains("temperature must be positive", e.Message);
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void ForwardAndBackwardAreDeterministic(KernelPath path)
    {
        int B = 6, C = 70;
        var p = Reference.Random(B * C, 14); var t = Reference.Random(B * C, 15);
        var dp0 = Reference.Random(B * C, 16); var dt0 = Reference.Random(B * C, 17);
        float[][] Run(KernelLibrary ops)
        {
            var outputs = new List<float[]>();
            using var tp = Tensor.FromArray(ops.Device, p, B, C); using var tt = Tensor.FromArray(ops.Device, t, B, C);
            foreach (var kind in Enum.GetValues<JepaDistanceKind>())
            {
                using var pairs = Tensor.Empty(ops.Device, B); using var loss = Tensor.Empty(ops.Device, 1);
                using var dp = Tensor.FromArray(ops.Device, dp0, B, C); using var dt = Tensor.FromArray(ops.Device, dt0, B, C);
                ops.JepaDistance.Forward(kind, tp.View, tt.View, pairs.View, loss.View, B, C);
                ops.JepaDistance.Backward(kind, tp.View, tt.View, dp.View, dt.View, B, C, 1.3f);
                outputs.AddRange([pairs.ToArray(), loss.ToArray(), dp.ToArray(), dt.ToArray()]);
            }
            return outputs.ToArray();
        }
        var first = Run(f.Lib(path)); var second = Run(f.Lib(path));
        for (int i = 0; i < first.Length; i++) Reference.AssertBitwiseEqual(first[i], second[i], $"output {i} twice");
        ChunkRuns.AssertIndependentOfChunks(Run, "jepa distance", path);
    }
}
