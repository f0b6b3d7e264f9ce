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

    [Fact]
    public void CentringUncoversPairContentUnderASharedDirectionAndRetrievalFindsIt()
    {
        int rows = 40, cols = 24;
        var content = new float[rows * cols]; var noise = new float[rows * cols]; var shared = new float[cols];
        Philox.FillNormal(content, 7, 0); Philox.FillNormal(noise, 7, 1); Philox.FillNormal(shared, 7, 2);
        // each view: 30 × one shared direction + the pair's own small content (+ a little noise on the target side)
        var p = new float[rows * cols]; var t = new float[rows * cols];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = 30f * shared[i % cols] + 0.5f * content[i];
            t[i] = 30f * shared[i % cols] + 0.5f * content[i] + 0.1f * noise[i];
        }
        double raw = CollapseMonitor.PairGap(p, t, rows, cols), centred = CollapseMonitor.CentredPairGap(p, t, rows, cols);
        Assert.InRange(raw, 0, 0.01);    // the raw cosine sees one direction: looks collapsed
        Assert.True(centred > 0.8, $"centred gap {centred}"); // the pair content is there
        Assert.Equal(1.0, CollapseMonitor.RetrievalTop1(p, t, rows, cols));

        // float64 check of the centred gap on the definition: unit rows, minus each view's mean, unit again, matched − mismatched
        double[][] Prep(float[] x)
        {
            var u = Enumerable.Range(0, rows).Select(r => { var v = x.Skip(r * cols).Take(cols).Select(a => (double)a).ToArray(); double n = Math.Sqrt(v.Sum(a => a * a)); return v.Select(a => a / n).ToArray(); }).ToArray();
            var mean = Enumerable.Range(0, cols).Select(c => u.Average(v => v[c])).ToArray();
            return u.Select(v => { var w = v.Select((a, c) => a - mean[c]).ToArray(); double n = Math.Sqrt(w.Sum(a => a * a)); return w.Select(a => a / n).ToArray(); }).ToArray();
        }
        var (pu, tu) = (Prep(p), Prep(t));
        double dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();
        double want = Enumerable.Range(0, rows).Average(i => dot(pu[i], tu[i]))
            - Enumerable.Range(0, rows).SelectMany(i => Enumerable.Range(0, rows).Where(j => j != i).Select(j => dot(pu[i], tu[j]))).Average();
        Assert.Equal(want, centred, 12);

        // targets of other examples: no content in common, retrieval falls to about chance
        var shuffled = new float[rows * cols];
        for (int r = 0; r < rows; r++) Array.Copy(t, ((r + 7) % rows) * cols, shuffled, r * cols, cols);
        Assert.InRange(CollapseMonitor.CentredPairGap(p, shuffled, rows, cols), -0.15, 0.15);
        Assert.True(CollapseMonitor.RetrievalTop1(p, shuffled, rows, cols) <= 0.1);
        // exact collapse: nothing left after centring
        var one = new float[rows * cols];
        for (int r = 0; r < rows; r++) Array.Copy(p, 0, one, r * cols, cols);
        Assert.Equal(0, CollapseMonitor.CentredPairGap(one, one, rows, cols));
        Assert.Equal(1.0 / rows, CollapseMonitor.RetrievalTop1(one, one, rows, cols));
        Assert.True(double.IsNaN(CollapseMonitor.RetrievalTop1(p.AsSpan(0, cols), t.AsSpan(0, cols), 1, cols)));
    }
}
