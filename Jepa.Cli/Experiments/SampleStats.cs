namespace Jepa.Cli.Experiments;

/// <summary>The mean and sample standard deviation of a few values (one per seed).</summary>
/// <param name="N">How many values.</param>
/// <param name="Mean">Their mean (NaN for none).</param>
/// <param name="Std">Their sample standard deviation, √(Σ(x − mean)² / (n − 1)); NaN for fewer than two values.</param>
public sealed record SampleStats(int N, double Mean, double Std)
{
    /// <summary>The statistics of <paramref name="values"/>.</summary>
    public static SampleStats Of(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count == 0) return new SampleStats(0, double.NaN, double.NaN);
        double mean = list.Average();
        double std = list.Count < 2 ? double.NaN : Math.Sqrt(list.Sum(x => (x - mean) * (x - mean)) / (list.Count - 1));
        return new SampleStats(list.Count, mean, std);
    }
}
