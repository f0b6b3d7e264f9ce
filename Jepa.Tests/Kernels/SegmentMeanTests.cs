using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;
using Jepa.Training.Autograd;

namespace Jepa.Tests.Kernels;

/// <summary>The segment mean (a view embedded as the mean of its tokens' states): forward against a float64 reference,
/// backward against finite differences through the tape, and the offsets it refuses.</summary>
public sealed class SegmentMeanTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private static double[] MeanRef(float[] x, int[] offsets, int C) => MeanRef(Reference.ToDouble(x), offsets, C);

    private static double[] MeanRef(double[] x, int[] offsets, int C)
    {
        int B = offsets.Length - 1;
        var y = new double[B * C];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
            {
                double s = 0;
                for (int r = offsets[b]; r < offsets[b + 1]; r++) s += x[r * C + c];
                y[b * C + c] = s / (offsets[b + 1] - offsets[b]);
            }
        return y;
    }

    [Theory]
    [InlineData(new[] { 0, 1 }, 3)]
    [InlineData(new[] { 0, 3, 4, 9 }, 5)]
    [InlineData(new[] { 0, 2, 40, 41, 70 }, 33)]
    public void ForwardMatchesFloat64(int[] offsets, int C)
    {
        int R = offsets[^1], B = offsets.Length - 1;
        var x = Reference.Random(R * C, 21, -3f, 3f);
        using var tx = f.Upload(x, R, C);
        using var to = Tensor.FromInt32(f.Device, offsets, offsets.Length);
        using var y = Tensor.Empty(f.Device, B, C);
        f.Kernels.SegmentMean.Forward(tx.View, to.AsInt32(), y.View, R, B, C);
        Reference.AssertClose(y.ToArray(), MeanRef(x, offsets, C), 1e-6, "segment mean");
    }

    [Fact]
    public void GatherThenMeanThroughTheTapeMatchesFiniteDifferencesAndAccumulates()
    {
        // loss = Σ w ⊙ SegmentMean(GatherRows(h, rows)) with a repeated row, as the objective composes them.
        int N = 7, C = 4;
        int[] rows = [1, 2, 3, 5, 5, 0], offsets = [0, 3, 5, 6];
        int B = offsets.Length - 1;
        var h = Reference.Random(N * C, 22);
        var w = Reference.Random(B * C, 23);
        var dh0 = Reference.Random(N * C, 24);
        double Loss(double[] hd)
        {
            var g = new double[rows.Length * C];
            for (int i = 0; i < rows.Length; i++) for (int c = 0; c < C; c++) g[i * C + c] = hd[rows[i] * C + c];
            var y = MeanRef(g, offsets, C);
            return y.Select((v, i) => v * w[i]).Sum();
        }
        float[] grad;
        using (var tape = new Tape(f.Kernels))
        {
            using var th = f.Upload(h, N, C);
            var v = tape.Input(th, requiresGrad: true);
            tape.Grad(v).CopyFrom(dh0);
            var y = tape.SegmentMean(tape.GatherRows(v, rows), offsets);
            tape.Backward(y, w);
            grad = tape.Grad(v).ToArray();
        }
        var numeric = GradCheck.Numeric(Loss, Reference.ToDouble(h));
        Reference.AssertClose(grad, numeric.Select((g, i) => dh0[i] + g).ToArray(), 1e-4, "d h");
    }

    [Theory]
    [InlineData(new[] { 1, 3 }, 3, "start at 0")]
    [InlineData(new[] { 0, 2, 2, 3 }, 3, "empty")]
    [InlineData(new[] { 0, 2 }, 3, "end at 2")]
    [InlineData(new[] { 0 }, 0, "at least 2")]
    public void BadOffsetsAreRefusedWithTheReason(int[] offsets, int rows, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => SegmentMean.Validate(offsets, rows));
        Assert.Contains(reason, e.Message);
    }
}
