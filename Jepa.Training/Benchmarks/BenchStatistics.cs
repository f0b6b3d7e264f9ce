using System.Diagnostics;

namespace Jepa.Training.Benchmarks;

/// <summary>Small helpers the benchmarks share.</summary>
public static class BenchStatistics
{
    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count).</summary>
    /// <exception cref="ArgumentException">No values.</exception>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("The median of no values is undefined.", nameof(values));
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    /// <summary>Runs <paramref name="work"/> <paramref name="runs"/> times and returns the median wall time of a run, in milliseconds.</summary>
    public static double MedianMs(Action work, int runs)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var w = Stopwatch.StartNew();
            work();
            times[i] = w.Elapsed.TotalMilliseconds;
        }
        return Median(times);
    }

    /// <summary>The machine's 1, 5 and 15 minute load averages (<c>/proc/loadavg</c>), or <c>n/a</c> where there is none.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
