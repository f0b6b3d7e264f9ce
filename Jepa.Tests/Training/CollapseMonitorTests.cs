using Jepa.Core;
using Jepa.Training.Training;

namespace Jepa.Tests.Training;

public sealed class CollapseMonitorTests
{
    [Fact]
    public void RandomDirectionsAreSpreadAndHighRank()
    {
        int rows = 16, cols = 64;
        var e = new float[rows * cols];
        Philox.FillNormal(e, 1, 0);
        var (spread, rank) = CollapseMonitor.Measure(e, rows, cols);
        Assert.InRange(spread, 0.8, 1.2);
        Assert.True(rank > 10, $"effective rank {rank}");
        Assert.False(CollapseMonitor.IsCollapsed(spread, rank));
    }

    [Fact]
    public void OneDirectionAtDifferentLengthsIsCollapsed()
    {
        int rows = 16, cols = 64;
        var dir = new float[cols];
        Philox.FillNormal(dir, 2, 0);
        var noise = new float[rows * cols];
        Philox.FillNormal(noise, 3, 0, 0f, 1e-4f);
        var e = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) e[r * cols + c] = (1 + r) * dir[c] + noise[r * cols + c];
        var (spread, rank) = CollapseMonitor.Measure(e, rows, cols);
        Assert.True(spread < 0.01, $"spread {spread}");
        Assert.True(CollapseMonitor.IsCollapsed(spread, rank));
    }

    [Fact]
    public void TwoClustersHaveRankNearOne()
    {
        int rows = 20, cols = 32;
        var a = new float[cols]; var b = new float[cols];
        Philox.FillNormal(a, 4, 0); Philox.FillNormal(b, 4, 1);
        var e = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) e[r * cols + c] = r % 2 == 0 ? a[c] : b[c];
        var (spread, rank) = CollapseMonitor.Measure(e, rows, cols);
        Assert.InRange(rank, 0.99, 1.01); // the centred points lie on one line
        Assert.True(spread > 0.3, $"spread {spread}");
    }

    [Fact]
    public void PairGapIsHighForMatchedViewsAndZeroForCollapsedOrUnrelatedOnes()
    {
        int rows = 16, cols = 32;
        var p = new float[rows * cols]; var other = new float[rows * cols];
        Philox.FillNormal(p, 5, 0); Philox.FillNormal(other, 5, 1);
        var near = p.Select((x, i) => x + 0.1f * other[i]).ToArray();
        Assert.True(CollapseMonitor.PairGap(p, near, rows, cols) > 0.9);
        Assert.InRange(CollapseMonitor.PairGap(p, other, rows, cols), -0.1, 0.1);
        var one = new float[rows * cols];
        for (int r = 0; r < rows; r++) Array.Copy(p, 0, one, r * cols, cols);
        Assert.InRange(CollapseMonitor.PairGap(one, one, rows, cols), -1e-9, 1e-9); // every cosine is 1: no pair content
        Assert.True(double.IsNaN(CollapseMonitor.PairGap(p.AsSpan(0, cols), p.AsSpan(0, cols), 1, cols)));
    }
}
