using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class ElementwiseTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    [Theory]
    [InlineData(KernelPath.Kernel, 1)]
    [InlineData(KernelPath.Host, 1)]
    [InlineData(KernelPath.Kernel, 37)]
    [InlineData(KernelPath.Host, 37)]
    [InlineData(KernelPath.Kernel, 1000)]
    [InlineData(KernelPath.Host, 1000)]
    public void AddMulScaleForwardMatchFloat64(KernelPath path, int n)
    {
        var a = Reference.Random(n, 1); var b = Reference.Random(n, 2);
        using var ta = f.Upload(a, n); using var tb = f.Upload(b, n); using var y = Jepa.Core.Tensor.Empty(f.Device, n);
        f.Lib(path).Elementwise.Add(ta.View, tb.View, y.View, n);
        Reference.AssertClose(y.ToArray(), a.Zip(b, (p, q) => (double)p + q).ToArray(), 1e-7, "add");
        f.Lib(path).Elementwise.Mul(ta.View, tb.View, y.View, n);
        Reference.AssertClose(y.ToArray(), a.Zip(b, (p, q) => (double)p * q).ToArray(), 1e-7, "mul");
        f.Lib(path).Elementwise.Scale(-2.5f, ta.View, y.View, n);
        Reference.AssertClose(y.ToArray(), a.Select(p => -2.5 * p).ToArray(), 1e-7, "scale");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void MulBackwardAccumulatesProductRule(KernelPath path)
    {
        int n = 53;
        var a = Reference.Random(n, 3); var b = Reference.Random(n, 4); var dy = Reference.Random(n, 5);
        var da0 = Reference.Random(n, 6); var db0 = Reference.Random(n, 7);
        using var ta = f.Upload(a, n); using var tb = f.Upload(b, n); using var tdy = f.Upload(dy, n);
        using var tda = f.Upload(da0, n); using var tdb = f.Upload(db0, n);
        f.Lib(path).Elementwise.MulBackward(tdy.View, ta.View, tb.View, tda.View, tdb.View, n);
        Reference.AssertClose(tda.ToArray(), Enumerable.Range(0, n).Select(i => da0[i] + (double)dy[i] * b[i]).ToArray(), 1e-6, "da");
        Reference.AssertClose(tdb.ToArray(), Enumerable.Range(0, n).Select(i => db0[i] + (double)dy[i] * a[i]).ToArray(), 1e-6, "db");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 1, 1)]
    [InlineData(KernelPath.Host, 1, 1)]
    [InlineData(KernelPath.Kernel, 7, 13)]
    [InlineData(KernelPath.Host, 7, 13)]
    [InlineData(KernelPath.Kernel, 65, 33)]
    [InlineData(KernelPath.Host, 65, 33)]
    public void BiasForwardAndBackwardMatchFiniteDifferences(KernelPath path, int rows, int cols)
    {
        int n = rows * cols;
        var x = Reference.Random(n, 8); var bias = Reference.Random(cols, 9); var w = Reference.Random(n, 10);
        using var tx = f.Upload(x, rows, cols); using var tb = f.Upload(bias, cols); using var y = Jepa.Core.Tensor.Empty(f.Device, rows, cols);
        f.Lib(path).Elementwise.Bias(tx.View, tb.View, y.View, rows, cols);
        double[] Forward(double[] xs, double[] bs) => Enumerable.Range(0, n).Select(i => xs[i] + bs[i % cols]).ToArray();
        Reference.AssertClose(y.ToArray(), Forward(Reference.ToDouble(x), Reference.ToDouble(bias)), 1e-7, "bias");

        using var tdy = f.Upload(w, rows, cols); using var dx = Jepa.Core.Tensor.Zeros(f.Device, rows, cols); using var db = Jepa.Core.Tensor.Zeros(f.Device, cols);
        f.Lib(path).Elementwise.BiasBackward(tdy.View, dx.View, db.View, rows, cols);
        var wd = Reference.ToDouble(w);
        var numDb = GradCheck.Numeric(bs => GradCheck.Dot(Forward(Reference.ToDouble(x), bs), wd), Reference.ToDouble(bias));
        var numDx = GradCheck.Numeric(xs => GradCheck.Dot(Forward(xs, Reference.ToDouble(bias)), wd), Reference.ToDouble(x));
        Reference.AssertClose(db.ToArray(), numDb, 1e-6, "dbias");
        Reference.AssertClose(dx.ToArray(), numDx, 1e-6, "dx");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void ShortViewIsAClearError(KernelPath path)
    {
        using var a = Jepa.Core.Tensor.Zeros(f.Device, 4);
        var e = Assert.Throws<ArgumentException>(() => f.Lib(path).Elementwise.Add(a.View, a.View, a.View, 5));
        Assert.Contains("Add", e.Message);
        Assert.Contains("need 5", e.Message);
    }
}
