using System.Globalization;

namespace Jepa.Training.Benchmarks;

/// <summary>The text table of <see cref="StepTiming"/> rows that <c>jepa bench</c> and <c>Jepa.Bench steps</c> print.</summary>
public static class StepTable
{
    /// <summary>The column heads.</summary>
    public static string Header { get; } = $"{"step",-14} {"B×T",-8} {"median ms",10} {"tokens/s",10} {"peak MiB",9} {"new allocs",10}";

    /// <summary>One row: the kind, the batch shape, median ms per step, tokens/s, peak device MiB and steady-state allocations.</summary>
    public static string Row(StepTiming t, int B, int T)
    {
        ArgumentNullException.ThrowIfNull(t);
        return string.Create(CultureInfo.InvariantCulture,
            $"{t.Kind.Name(),-14} {$"{B}×{T}",-8} {t.MedianMs,10:F1} {t.TokensPerSecond,10:F0} {t.PeakBytes / 1048576.0,9:F1} {t.SteadyStateAllocations,10}");
    }
}
