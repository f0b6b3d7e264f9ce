using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class NormTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    // ---------------------------------------------------------------- float64 references

    private static double[] RmsNormRef(double[] x, double[] w, int N, int C, double eps, double[]? rstd = null)
    {
        var y = new double[N * C];
        for (int n = 0; n < N; n++)
        {
            double ss = 0;
            for (int c = 0; c < C; c++) ss += x[n * C + c] * x[n * C + c];
            double r = 1 / Math.Sqrt(ss / C + eps);
            if (rstd is not null) rstd[n] = r;
            for (int c = 0; c < C; c++) y[n * C + c] = x[n * C + c] * r * w[c];
        }
        return y;
    }

    private static double[] LayerNormRef(double[] x, double[] w, double[] b, int N, int C, double eps, double[]? mean = null, double[]? rstd = null)
    {
        var y = new double[N * C];
        for (int n = 0; n < N; n++)
        {
            double m = 0, v = 0;
            for (int c = 0; c < C; c++) m += x[n * C + c];
            m /= C;
            for (int c = 0; c < C; c++) v += (x[n * C + c] - m) * (x[n * C + c] - m);
            double r = 1 / Math.Sqrt(v / C + eps);
            if (mean is not null) mean[n] = m;
            if (rstd is not null) rstd[n] = r;
            for (int c = 0; c < C; c++) y[n * C + c] = (x[n * C + c] - m) * r * w[c] + b[c];
        }
        return y;
    }

    // ---------------------------------------------------------------- RMSNorm

    [Theory]
    [InlineData(KernelPath.Kernel, 1, 1)]
    [InlineData(KernelPath.Host, 1, 1)]
    [InlineData(KernelPath.Kernel, 3, 7)]
    [InlineData(KernelPath.Host, 3, 7)]
    [InlineData(KernelPath.Kernel, 4, 65)]
    [InlineData(KernelPath.Host, 4, 65)]
    [InlineData(KernelPath.Kernel, 3, 257)]
    [InlineData(KernelPath.Host, 3, 257)]
    [InlineData(KernelPath.Kernel, 40, 33)]
    [InlineData(KernelPath.Host, 40, 33)]
    public void RmsNormForwardMatchesFloat64(KernelPath path, int N, int C)
    {
        const float eps = 1e-5f;
        var x = Reference.Random(N * C, 11, -2f, 2f); var w = Reference.Random(C, 12, 0.5f, 1.5f);
        using var tx = f.Upload(x, N, C); using var tw = f.Upload(w, C);
        using var y = Tensor.Empty(f.Device, N, C); using var rstd = Tensor.Empty(f.Device, N);
        f.Lib(path).RmsNorm.Forward(tx.View, tw.View, y.View, rstd.View, N, C, eps);
        var rRef = new double[N];
        var yRef = RmsNormRef(Reference.ToDouble(x), Reference.ToDouble(w), N, C, eps, rRef);
        Reference.AssertClose(y.ToArray(), yRef, 1e-6, "y");
        Reference.AssertClose(rstd.ToArray(), rRef, 1e-6, "rstd");

        f.Lib(path).RmsNorm.Forward(tx.View, tw.View, tx.View, rstd.View, N, C, eps);
        Reference.AssertBitwiseEqual(tx.ToArray(), y.ToArray(), "in place");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 3, 1, 0.1f)]
    [InlineData(KernelPath.Host, 3, 1, 0.1f)]
    [InlineData(KernelPath.Kernel, 2, 7, 1e-5f)]
    [InlineData(KernelPath.Host, 2, 7, 1e-5f)]
    [InlineData(KernelPath.Kernel, 3, 65, 1e-5f)]
    [InlineData(KernelPath.Host, 3, 65, 1e-5f)]
    [InlineData(KernelPath.Kernel, 37, 5, 1e-5f)]
    [InlineData(KernelPath.Host, 37, 5, 1e-5f)]
    public void RmsNormBackwardMatchesFiniteDifferencesAndAccumulates(KernelPath path, int N, int C, float eps)
    {
        var x = Reference.Random(N * C, 21, -2f, 2f); var w = Reference.Random(C, 22, 0.5f, 1.5f);
        var dy = Reference.Random(N * C, 23); var dx0 = Reference.Random(N * C, 24); var dw0 = Reference.Random(C, 25);
        using var tx = f.Upload(x, N, C); using var tw = f.Upload(w, C); using var tdy = f.Upload(dy, N, C);
        using var y = Tensor.Empty(f.Device, N, C); using var rstd = Tensor.Empty(f.Device, N);
        using var dx = f.Upload(dx0, N, C); using var dw = f.Upload(dw0, C);
        f.Lib(path).RmsNorm.Forward(tx.View, tw.View, y.View, rstd.View, N, C, eps);
        f.Lib(path).RmsNorm.Backward(tx.View, tw.View, rstd.View, tdy.View, dx.View, dw.View, N, C);

        double[] xd = Reference.ToDouble(x), wd = Reference.ToDouble(w), dyd = Reference.ToDouble(dy);
        var numDx = GradCheck.Numeric(xs => GradCheck.Dot(RmsNormRef(xs, wd, N, C, eps), dyd), xd);
        var numDw = GradCheck.Numeric(ws => GradCheck.Dot(RmsNormRef(xd, ws, N, C, eps), dyd), wd);
        Reference.AssertClose(Accumulation.Delta(dx.ToArray(), dx0), numDx, 1e-5, "dx");
        Reference.AssertClose(Accumulation.Delta(dw.ToArray(), dw0), numDw, 1e-5, "dw");
    }

    // ---------------------------------------------------------------- LayerNorm

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(4, 65)]
    [InlineData(3, 257)]
    [InlineData(40, 33)]
    public void LayerNormForwardMatchesFloat64(int N, int C)
    {
        const float eps = 1e-5f;
        var x = Reference.Random(N * C, 31, -2f, 3f); var w = Reference.Random(C, 32, 0.5f, 1.5f); var b = Reference.Random(C, 33);
        using var tx = f.Upload(x, N, C); using var tw = f.Upload(w, C); using var tb = f.Upload(b, C);
        using var y = Tensor.Empty(f.Device, N, C); using var mean = Tensor.Empty(f.Device, N); using var rstd = Tensor.Empty(f.Device, N);
        f.Ops.LayerNorm.Forward(tx.View, tw.View, tb.View, y.View, mean.View, rstd.View, N, C, eps);
        double[] mRef = new double[N], rRef = new double[N];
        var yRef = LayerNormRef(Reference.ToDouble(x), Reference.ToDouble(w), Reference.ToDouble(b), N, C, eps, mRef, rRef);
        Reference.AssertClose(y.ToArray(), yRef, 1e-6, "y");
        Reference.AssertClose(mean.ToArray(), mRef, 1e-6, "mean");
        Reference.AssertClose(rstd.ToArray(), rRef, 1e-6, "rstd");
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 65)]
    [InlineData(37, 5)]
    public void LayerNormBackwardMatchesFiniteDifferencesAndAccumulates(int N, int C)
    {
        const float eps = 1e-5f;
        var x = Reference.Random(N * C, 41, -2f, 3f); var w = Reference.Random(C, 42, 0.5f, 1.5f); var b = Reference.Random(C, 43);
        var dy = Reference.Random(N * C, 44);
        var dx0 = Reference.Random(N * C, 45); var dw0 = Reference.Random(C, 46); var db0 = Reference.Random(C, 47);
        using var tx = f.Upload(x, N, C); using var tw = f.Upload(w, C); using var tb = f.Upload(b, C); using var tdy = f.Upload(dy, N, C);
        using var y = Tensor.Empty(f.Device, N, C); using var mean = Tensor.Empty(f.Device, N); using var rstd = Tensor.Empty(f.Device, N);
        using var dx = f.Upload(dx0, N, C); using var dw = f.Upload(dw0, C); using var db = f.Upload(db0, C);
        f.Ops.LayerNorm.Forward(tx.View, tw.View, tb.View, y.View, mean.View, rstd.View, N, C, eps);
        f.Ops.LayerNorm.Backward(tx.View, tw.View, mean.View, rstd.View, tdy.View, dx.View, dw.View, db.View, N, C);

        double[] xd = Reference.ToDouble(x), wd = Reference.ToDouble(w), bd = Reference.ToDouble(b), dyd = Reference.ToDouble(dy);
        var numDx = GradCheck.Numeric(xs => GradCheck.Dot(LayerNormRef(xs, wd, bd, N, C, eps), dyd), xd);
        var numDw = GradCheck.Numeric(ws => GradCheck.Dot(LayerNormRef(xd, ws, bd, N, C, eps), dyd), wd);
        var numDb = GradCheck.Numeric(bs => GradCheck.Dot(LayerNormRef(xd, wd, bs, N, C, eps), dyd), bd);
        Reference.AssertClose(Accumulation.Delta(dx.ToArray(), dx0), numDx, 1e-5, "dx");
        Reference.AssertClose(Accumulation.Delta(dw.ToArray(), dw0), numDw, 1e-5, "dw");
        Reference.AssertClose(Accumulation.Delta(db.ToArray(), db0), numDb, 1e-5, "db");
    }

    // ---------------------------------------------------------------- determinism and errors

    [Theory]
    [InlineData(2, 65)]
    [InlineData(8, 7)]
    [InlineData(64, 65)]
    public void SharedMemoryTreeMatchesFloat64AndFiniteDifferences(int groupSize, int C)
    {
        // The CPU accelerator's default is one thread per row; this runs the multi-thread reduction tree
        // (including idle threads when the group is wider than the row) on the CPU.
        const int N = 2;
        const float eps = 1e-5f;
        var rms = new RmsNorm(f.Ops.Cache, groupSize, KernelPath.Kernel); var ln = new LayerNorm(f.Ops.Cache, groupSize);
        var x = Reference.Random(N * C, 55, -2f, 3f); var w = Reference.Random(C, 56, 0.5f, 1.5f); var b = Reference.Random(C, 57);
        var dy = Reference.Random(N * C, 58);
        double[] xd = Reference.ToDouble(x), wd = Reference.ToDouble(w), bd = Reference.ToDouble(b), dyd = Reference.ToDouble(dy);
        using var tx = f.Upload(x, N, C); using var tw = f.Upload(w, C); using var tb = f.Upload(b, C); using var tdy = f.Upload(dy, N, C);
        using var y = Tensor.Empty(f.Device, N, C); using var mean = Tensor.Empty(f.Device, N); using var rstd = Tensor.Empty(f.Device, N);
        using var dx = Tensor.Zeros(f.Device, N, C); using var dw = Tensor.Zeros(f.Device, C); using var db = Tensor.Zeros(f.Device, C);

        rms.Forward(tx.View, tw.View, y.View, rstd.View, N, C, eps);
        rms.Backward(tx.View, tw.View, rstd.View, tdy.View, dx.View, dw.View, N, C);
        Reference.AssertClose(y.ToArray(), RmsNormRef(xd, wd, N, C, eps), 1e-6, "rms y");
        Reference.AssertClose(dx.ToArray(), GradCheck.Numeric(xs => GradCheck.Dot(RmsNormRef(xs, wd, N, C, eps), dyd), xd), 1e-5, "rms dx");

        dx.Clear(); dw.Clear();
        ln.Forward(tx.View, tw.View, tb.View, y.View, mean.View, rstd.View, N, C, eps);
        ln.Backward(tx.View, tw.View, mean.View, rstd.View, tdy.View, dx.View, dw.View, db.View, N, C);
        Reference.AssertClose(y.ToArray(), LayerNormRef(xd, wd, bd, N, C, eps), 1e-6, "ln y");
        Reference.AssertClose(dx.ToArray(), GradCheck.Numeric(xs => GradCheck.Dot(LayerNormRef(xs, wd, bd, N, C, eps), dyd), xd), 1e-5, "ln dx");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 0, 37)]
    [InlineData(KernelPath.Host, 0, 37)]
    [InlineData(KernelPath.Kernel, 4, 5)]
    [InlineData(KernelPath.Host, 4, 5)]
    public void NormsAreDeterministicAcrossRunsAndCpuChunks(KernelPath path, int groupSize, int N)
    {
        const int C = 65;
        var x = Reference.Random(N * C, 51, -2f, 2f); var w = Reference.Random(C, 52, 0.5f, 1.5f);
        var b = Reference.Random(C, 53); var dy = Reference.Random(N * C, 54);
        Determinism.AssertRepeatableAndChunkIndependent(f, ops =>
        {
            var d = ops.Device;
            var rms = new RmsNorm(ops.Cache, groupSize, path); var ln = new LayerNorm(ops.Cache, groupSize);
            using var tx = Tensor.FromArray(d, x, N, C); using var tw = Tensor.FromArray(d, w, C); using var tb = Tensor.FromArray(d, b, C);
            using var tdy = Tensor.FromArray(d, dy, N, C);
            using var y1 = Tensor.Empty(d, N, C); using var y2 = Tensor.Empty(d, N, C);
            using var mean = Tensor.Empty(d, N); using var r1 = Tensor.Empty(d, N); using var r2 = Tensor.Empty(d, N);
            using var dx1 = Tensor.Zeros(d, N, C); using var dw1 = Tensor.Zeros(d, C);
            using var dx2 = Tensor.Zeros(d, N, C); using var dw2 = Tensor.Zeros(d, C); using var db2 = Tensor.Zeros(d, C);
            rms.Forward(tx.View, tw.View, y1.View, r1.View, N, C);
            rms.Backward(tx.View, tw.View, r1.View, tdy.View, dx1.View, dw1.View, N, C);
            ln.Forward(tx.View, tw.View, tb.View, y2.View, mean.View, r2.View, N, C);
            ln.Backward(tx.View, tw.View, mean.View, r2.View, tdy.View, dx2.View, dw2.View, db2.View, N, C);
            return [.. y1.ToArray(), .. dx1.ToArray(), .. dw1.ToArray(), .. y2.ToArray(), .. dx2.ToArray(), .. dw2.ToArray(), .. db2.ToArray()];
        }, $"RmsNorm ({path}) and LayerNorm, row group {groupSize}", path);
    }

    [Fact]
    public void ShortViewIsAClearError()
    {
        using var x = Tensor.Zeros(f.Device, 4, 8); using var w = Tensor.Zeros(f.Device, 7); using var r = Tensor.Zeros(f.Device, 4);
        var e = Assert.Throws<ArgumentException>(() => f.Ops.RmsNorm.Forward(x.View, w.View, x.View, r.View, 4, 8));
        Assert.Contains("RmsNorm", e.Message);
        Assert.Contains("'w'", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RmsNorm(f.Ops.Cache, 3));
    }
}
