using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class SoftmaxTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private static double[] SoftmaxRef(double[] x, int N, int C)
    {
        var y = new double[N * C];
        for (int n = 0; n < N; n++)
        {
            double m = double.NegativeInfinity, s = 0;
            for (int c = 0; c < C; c++) m = Math.Max(m, x[n * C + c]);
            for (int c = 0; c < C; c++) s += Math.Exp(x[n * C + c] - m);
            for (int c = 0; c < C; c++) y[n * C + c] = Math.Exp(x[n * C + c] - m) / s;
        }
        return y;
    }

    [Theory]
    [InlineData(1, 1, 3f)]
    [InlineData(3, 7, 3f)]
    [InlineData(4, 65, 3f)]
    [InlineData(3, 257, 3f)]
    [InlineData(5, 33, 200f)]
    public void ForwardMatchesFloat64(int N, int C, float range)
    {
        // range 200 puts logits far beyond float exp's overflow point: only the max-subtracted form survives.
        var x = Reference.Random(N * C, 61, -range, range);
        using var tx = f.Upload(x, N, C); using var y = Tensor.Empty(f.Device, N, C);
        f.Ops.Softmax.Forward(tx.View, y.View, N, C);
        var yRef = SoftmaxRef(Reference.ToDouble(x), N, C);
        Reference.AssertClose(y.ToArray(), yRef, 1e-6, "y");

        f.Ops.Softmax.Forward(tx.View, tx.View, N, C);
        Reference.AssertBitwiseEqual(tx.ToArray(), y.ToArray(), "in place");
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 7)]
    [InlineData(2, 65)]
    public void BackwardMatchesFiniteDifferencesAndAccumulates(int N, int C)
    {
        var x = Reference.Random(N * C, 71, -3f, 3f); var dy = Reference.Random(N * C, 72); var dx0 = Reference.Random(N * C, 73);
        using var tx = f.Upload(x, N, C); using var tdy = f.Upload(dy, N, C);
        using var y = Tensor.Empty(f.Device, N, C); using var dx = f.Upload(dx0, N, C);
        f.Ops.Softmax.Forward(tx.View, y.View, N, C);
        f.Ops.Softmax.Backward(y.View, tdy.View, dx.View, N, C);
        var dyd = Reference.ToDouble(dy);
        var numDx = GradCheck.Numeric(xs => GradCheck.Dot(SoftmaxRef(xs, N, C), dyd), Reference.ToDouble(x));
        Reference.AssertClose(Accumulation.Delta(dx.ToArray(), dx0), numDx, 1e-5, "dx"); // C = 1: both exactly 0
    }

    [Theory]
    [InlineData(2, 65)]
    [InlineData(8, 7)]
    [InlineData(64, 65)]
    public void SharedMemoryTreeMatchesFloat64AndFiniteDifferences(int groupSize, int C)
    {
        // The CPU accelerator's default is one thread per row; this runs the multi-thread reduction tree
        // (including idle threads when the group is wider than the row) on the CPU.
        const int N = 2;
        var softmax = new Softmax(f.Ops.Cache, groupSize);
        var x = Reference.Random(N * C, 75, -3f, 3f); var dy = Reference.Random(N * C, 76);
        using var tx = f.Upload(x, N, C); using var tdy = f.Upload(dy, N, C);
        using var y = Tensor.Empty(f.Device, N, C); using var dx = Tensor.Zeros(f.Device, N, C);
        softmax.Forward(tx.View, y.View, N, C);
        softmax.Backward(y.View, tdy.View, dx.View, N, C);
        var xd = Reference.ToDouble(x); var dyd = Reference.ToDouble(dy);
        Reference.AssertClose(y.ToArray(), SoftmaxRef(xd, N, C), 1e-6, "y");
        Reference.AssertClose(dx.ToArray(), GradCheck.Numeric(xs => GradCheck.Dot(SoftmaxRef(xs, N, C), dyd), xd), 1e-5, "dx");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void IsDeterministicAcrossRunsAndCpuChunks(int groupSize)
    {
        const int N = 9, C = 130;
        var x = Reference.Random(N * C, 81, -5f, 5f); var dy = Reference.Random(N * C, 82);
        Determinism.AssertRepeatableAndChunkIndependent(f, ops =>
        {
            var d = ops.Device;
            var softmax = new Softmax(ops.Cache, groupSize);
            using var tx = Tensor.FromArray(d, x, N, C); using var tdy = Tensor.FromArray(d, dy, N, C);
            using var y = Tensor.Empty(d, N, C); using var dx = Tensor.Zeros(d, N, C);
            softmax.Forward(tx.View, y.View, N, C);
            softmax.Backward(y.View, tdy.View, dx.View, N, C);
            return [.. y.ToArray(), .. dx.ToArray()];
        }, $"Softmax, row group {groupSize}");
    }
}
