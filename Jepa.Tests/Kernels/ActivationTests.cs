using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class ActivationTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    // ---------------------------------------------------------------- float64 references

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    private static double Silu(double v) => v * Sigmoid(v);

    /// <summary>erf to ~1e-14: Maclaurin series below 2.5, Laplace continued fraction of erfc above.</summary>
    private static double Erf(double z)
    {
        double a = Math.Abs(z), r;
        if (a < 2.5)
        {
            double sum = 0, term = a;
            for (int n = 0; n < 200; n++)
            {
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.Abs(t) < 1e-17 * Math.Abs(sum)) break;
                term *= -a * a / (n + 1);
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double fr = a;
            for (int k = 60; k >= 1; k--) fr = a + k / 2.0 / fr;
            r = 1 - Math.Exp(-a * a) / (Math.Sqrt(Math.PI) * fr);
        }
        return z < 0 ? -r : r;
    }

    private static double Gelu(double v, GeluApproximation a) => a == GeluApproximation.Tanh
        ? 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))
        : 0.5 * v * (1 + Erf(v / Math.Sqrt(2)));

    private static double[] Map(double[] x, Func<double, double> fn) => Array.ConvertAll(x, v => fn(v));

    [Fact]
    public void ReferenceErfMatchesKnownValues()
    {
        Assert.Equal(0.52049987781304654, Erf(0.5), 14);
        Assert.Equal(0.99959304798255504, Erf(2.5), 14);
        Assert.Equal(-0.99999992299607254, Erf(-3.8), 14);
    }

    // ---------------------------------------------------------------- SiLU / GELU forward

    [Theory]
    [InlineData(KernelPath.Kernel, 1)]
    [InlineData(KernelPath.Host, 1)]
    [InlineData(KernelPath.Kernel, 7)]
    [InlineData(KernelPath.Host, 7)]
    [InlineData(KernelPath.Kernel, 65)]
    [InlineData(KernelPath.Host, 65)]
    [InlineData(KernelPath.Kernel, 1000)]
    [InlineData(KernelPath.Host, 1000)]
    public void SiluAndGeluForwardMatchFloat64(KernelPath path, int n)
    {
        var x = Reference.Random(n, 101, -8f, 8f);
        var xd = Reference.ToDouble(x);
        using var tx = f.Upload(x, n); using var y = Tensor.Empty(f.Device, n);
        f.Lib(path).Activations.Silu(tx.View, y.View, n);
        Reference.AssertClose(y.ToArray(), Map(xd, Silu), 1e-6, "silu");
        foreach (var a in new[] { GeluApproximation.None, GeluApproximation.Tanh })
        {
            f.Lib(path).Activations.Gelu(tx.View, y.View, n, a);
            Reference.AssertClose(y.ToArray(), Map(xd, v => Gelu(v, a)), 1e-6, $"gelu {a}");
        }
    }

    [Fact]
    public void GeluIsAccurateElementwiseAndFiniteAtExtremes()
    {
        // Fine grid over the region where erf matters, each element compared on its own (absolute error
        // relative to max(|y|, 1e-3)), then values far out where naive formulas overflow to NaN.
        var grid = Enumerable.Range(0, 801).Select(i => -8f + i * 0.02f).Concat([-1e30f, -1e4f, -90f, 90f, 1e4f, 1e30f]).ToArray();
        int n = grid.Length;
        using var tx = f.Upload(grid, n); using var y = Tensor.Empty(f.Device, n); using var dx = Tensor.Zeros(f.Device, n);
        using var ones = f.Upload(Enumerable.Repeat(1f, n).ToArray(), n);
        foreach (var a in new[] { GeluApproximation.None, GeluApproximation.Tanh })
        {
            f.Ops.Activations.Gelu(tx.View, y.View, n, a);
            dx.Clear();
            f.Ops.Activations.GeluBackward(tx.View, ones.View, dx.View, n, a);
            var ys = y.ToArray(); var ds = dx.ToArray();
            for (int i = 0; i < n; i++)
            {
                double want = Gelu(grid[i], a);
                Assert.True(float.IsFinite(ys[i]) && float.IsFinite(ds[i]), $"{a}: GELU({grid[i]}) = {ys[i]}, GELU' = {ds[i]}");
                if (Math.Abs(grid[i]) <= 90)
                    Assert.True(Math.Abs(ys[i] - want) <= 1.5e-6 * Math.Max(Math.Abs(want), 1e-3),
                        $"{a}: GELU({grid[i]:R}) = {ys[i]:R}, want {want:R}");
            }
        }
    }

    // ---------------------------------------------------------------- SiLU / GELU backward

    [Theory]
    [InlineData(KernelPath.Kernel, GeluApproximation.None)]
    [InlineData(KernelPath.Host, GeluApproximation.None)]
    [InlineData(KernelPath.Kernel, GeluApproximation.Tanh)]
    [InlineData(KernelPath.Host, GeluApproximation.Tanh)]
    public void SiluAndGeluBackwardMatchFiniteDifferencesAndAccumulate(KernelPath path, GeluApproximation a)
    {
        const int n = 37;
        var x = Reference.Random(n, 111, -6f, 6f); var dy = Reference.Random(n, 112); var dx0 = Reference.Random(n, 113);
        double[] xd = Reference.ToDouble(x), dyd = Reference.ToDouble(dy);
        using var tx = f.Upload(x, n); using var tdy = f.Upload(dy, n); using var dx = f.Upload(dx0, n);

        f.Lib(path).Activations.SiluBackward(tx.View, tdy.View, dx.View, n);
        var num = GradCheck.Numeric(xs => GradCheck.Dot(Map(xs, Silu), dyd), xd);
        Reference.AssertClose(Accumulation.Delta(dx.ToArray(), dx0), num, 1e-6, "silu dx");

        dx.CopyFrom(dx0);
        f.Lib(path).Activations.GeluBackward(tx.View, tdy.View, dx.View, n, a);
        num = GradCheck.Numeric(xs => GradCheck.Dot(Map(xs, v => Gelu(v, a)), dyd), xd);
        Reference.AssertClose(Accumulation.Delta(dx.ToArray(), dx0), num, 1e-6, $"gelu {a} dx");
    }

    // ---------------------------------------------------------------- SwiGLU

    private static double[] SwiGluRef(double[] gate, double[] up) => gate.Select((g, i) => Silu(g) * up[i]).ToArray();

    [Theory]
    [InlineData(KernelPath.Kernel, 1)]
    [InlineData(KernelPath.Host, 1)]
    [InlineData(KernelPath.Kernel, 65)]
    [InlineData(KernelPath.Host, 65)]
    [InlineData(KernelPath.Kernel, 1000)]
    [InlineData(KernelPath.Host, 1000)]
    public void SwiGluForwardMatchesFloat64(KernelPath path, int n)
    {
        var g = Reference.Random(n, 121, -6f, 6f); var u = Reference.Random(n, 122, -2f, 2f);
        using var tg = f.Upload(g, n); using var tu = f.Upload(u, n); using var y = Tensor.Empty(f.Device, n);
        f.Lib(path).Activations.SwiGlu(tg.View, tu.View, y.View, n);
        Reference.AssertClose(y.ToArray(), SwiGluRef(Reference.ToDouble(g), Reference.ToDouble(u)), 1e-6, "swiglu");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void SwiGluBackwardMatchesFiniteDifferencesAndAccumulates(KernelPath path)
    {
        const int n = 37;
        var g = Reference.Random(n, 131, -6f, 6f); var u = Reference.Random(n, 132, -2f, 2f); var dy = Reference.Random(n, 133);
        var dg0 = Reference.Random(n, 134); var du0 = Reference.Random(n, 135);
        using var tg = f.Upload(g, n); using var tu = f.Upload(u, n); using var tdy = f.Upload(dy, n);
        using var dg = f.Upload(dg0, n); using var du = f.Upload(du0, n);
        f.Lib(path).Activations.SwiGluBackward(tg.View, tu.View, tdy.View, dg.View, du.View, n);
        double[] gd = Reference.ToDouble(g), ud = Reference.ToDouble(u), dyd = Reference.ToDouble(dy);
        Reference.AssertClose(Accumulation.Delta(dg.ToArray(), dg0), GradCheck.Numeric(gs => GradCheck.Dot(SwiGluRef(gs, ud), dyd), gd), 1e-6, "dgate");
        Reference.AssertClose(Accumulation.Delta(du.ToArray(), du0), GradCheck.Numeric(us => GradCheck.Dot(SwiGluRef(gd, us), dyd), ud), 1e-6, "dup");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 1, 1)]
    [InlineData(KernelPath.Host, 1, 1)]
    [InlineData(KernelPath.Kernel, 3, 5)]
    [InlineData(KernelPath.Host, 3, 5)]
    [InlineData(KernelPath.Kernel, 4, 33)]
    [InlineData(KernelPath.Host, 4, 33)]
    public void PackedSwiGluMatchesFloat64AndFiniteDifferences(KernelPath path, int N, int F)
    {
        var p = Reference.Random(N * 2 * F, 141, -6f, 6f); var dy = Reference.Random(N * F, 142); var dp0 = Reference.Random(N * 2 * F, 143);
        double[] Forward(double[] ps)
        {
            var y = new double[N * F];
            for (int r = 0; r < N; r++)
                for (int c = 0; c < F; c++) y[r * F + c] = Silu(ps[r * 2 * F + c]) * ps[r * 2 * F + F + c];
            return y;
        }
        using var tp = f.Upload(p, N, 2 * F); using var tdy = f.Upload(dy, N, F);
        using var y = Tensor.Empty(f.Device, N, F); using var dp = f.Upload(dp0, N, 2 * F);
        f.Lib(path).Activations.SwiGluPacked(tp.View, y.View, N, F);
        f.Lib(path).Activations.SwiGluPackedBackward(tp.View, tdy.View, dp.View, N, F);
        var pd = Reference.ToDouble(p);
        Reference.AssertClose(y.ToArray(), Forward(pd), 1e-6, "packed swiglu");
        var num = GradCheck.Numeric(ps => GradCheck.Dot(Forward(ps), Reference.ToDouble(dy)), pd);
        Reference.AssertClose(Accumulation.Delta(dp.ToArray(), dp0), num, 1e-6, "dgateup");
    }

    // ---------------------------------------------------------------- determinism and errors

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void AreDeterministicAcrossRunsAndCpuChunks(KernelPath path)
    {
        const int N = 7, F = 29, n = N * F;
        var x = Reference.Random(2 * n, 151, -6f, 6f); var dy = Reference.Random(n, 152);
        Determinism.AssertRepeatableAndChunkIndependent(f, ops =>
        {
            var d = ops.Device;
            var act = ops.Activations;
            using var tx = Tensor.FromArray(d, x, N, 2 * F); using var tdy = Tensor.FromArray(d, dy, N, F);
            using var y = Tensor.Empty(d, 5, n); using var dx = Tensor.Zeros(d, 4, 2 * n);
            var a = tx.View.SubView(0, n);
            act.Silu(a, y.View.SubView(0, n), n);
            act.Gelu(a, y.View.SubView(n, n), n);
            act.Gelu(a, y.View.SubView(2 * n, n), n, GeluApproximation.Tanh);
            act.SwiGlu(a, tx.View.SubView(n, n), y.View.SubView(3 * n, n), n);
            act.SwiGluPacked(tx.View, y.View.SubView(4 * n, n), N, F);
            act.SiluBackward(a, tdy.View, dx.View.SubView(0, n), n);
            act.GeluBackward(a, tdy.View, dx.View.SubView(n, n), n);
            act.GeluBackward(a, tdy.View, dx.View.SubView(2 * n, n), n, GeluApproximation.Tanh);
            act.SwiGluBackward(a, tx.View.SubView(n, n), tdy.View, dx.View.SubView(3 * n, n), dx.View.SubView(4 * n, n), n);
            act.SwiGluPackedBackward(tx.View, tdy.View, dx.View.SubView(6 * n, 2 * n), N, F);
            return [.. y.ToArray(), .. dx.ToArray()];
        }, "activations", path);
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void ShortPackedViewIsAClearError(KernelPath path)
    {
        using var p = Tensor.Zeros(f.Device, 3, 9); using var y = Tensor.Zeros(f.Device, 3, 5);
        var e = Assert.Throws<ArgumentException>(() => f.Lib(path).Activations.SwiGluPacked(p.View, y.View, 3, 5));
        Assert.Contains("SwiGluPacked", e.Message);
        Assert.Contains("need 30", e.Message);
    }

    // ---------------------------------------------------------------- soft cap

    [Theory]
    [InlineData(0.5f)]
    [InlineData(3f)]
    [InlineData(30f)]
    public void SoftCapMatchesFloat64AndItsBackwardFiniteDifferencesAndAccumulates(float cap)
    {
        const int n = 41;
        var x = Reference.Random(n, 121, -4f * cap, 4f * cap); var dy = Reference.Random(n, 122); var dx0 = Reference.Random(n, 123);
        double[] xd = Reference.ToDouble(x), dyd = Reference.ToDouble(dy);
        double Cap(double v) => cap * Math.Tanh(v / cap);
        using var tx = f.Upload(x, n); using var tdy = f.Upload(dy, n); using var dx = f.Upload(dx0, n); using var y = Tensor.Empty(f.Device, n);
        f.Ops.Activations.SoftCap(tx.View, y.View, n, cap);
        Reference.AssertClose(y.ToArray(), Map(xd, Cap), 1e-6, "soft cap");
        Assert.All(y.ToArray(), v => Assert.True(Math.Abs(v) <= cap, $"{v} beyond the cap {cap}"));
        f.Ops.Activations.SoftCapBackward(tx.View, tdy.View, dx.View, n, cap);
        var num = GradCheck.Numeric(xs => GradCheck.Dot(Map(xs, Cap), dyd), xd);
        Reference.AssertClose(Accumulation.Delta(dx.ToArray(), dx0), num, 1e-6, "soft cap dx");
        Assert.Contains("cap", Assert.Throws<ArgumentOutOfRangeException>(() => f.Ops.Activations.SoftCap(tx.View, y.View, n, 0f)).Message);
    }
}
