using Jepa.Core;
using Jepa.Cli.Support;
using Jepa.Training.Training;

namespace Jepa.Cli.Experiments;

/// <summary>The statistics over seeds of one evaluation point of a configuration's curves.</summary>
/// <param name="Step">The optimizer step (the same for every seed of a configuration).</param>
/// <param name="Epoch">The epoch at that step.</param>
/// <param name="Metrics">Metric name → statistics over the seeds that evaluated at that step.</param>
public sealed record CurveRow(int Step, double Epoch, IReadOnlyList<KeyValuePair<string, SampleStats>> Metrics);

/// <summary>The results of one configuration over its seeds.</summary>
/// <param name="Config">The configuration.</param>
/// <param name="Differences">Its options that differ from the base's (null: unset).</param>
/// <param name="Seeds">Every seed of the experiment, in spec order.</param>
/// <param name="Runs">Its finished runs, in seed order.</param>
/// <param name="Metrics">Metric name → statistics over the finished runs.</param>
/// <param name="Curve">The curve statistics by step (empty when no run wrote <c>curve.jsonl</c>).</param>
public sealed record ConfigResult(ExperimentConfig Config, IReadOnlyList<KeyValuePair<string, string?>> Differences, IReadOnlyList<ulong> Seeds,
    IReadOnlyList<RunResult> Runs, IReadOnlyList<KeyValuePair<string, SampleStats>> Metrics, IReadOnlyList<CurveRow> Curve)
{
    /// <summary>The statistics of <paramref name="metric"/> (no values when no run scored it).</summary>
    public SampleStats this[string metric] => Metrics.FirstOrDefault(m => m.Key == metric).Value ?? SampleStats.Of([]);
}

/// <summary>
/// The tabulated results of an experiment from its finished runs: per run and per configuration the mean and sample
/// standard deviation over seeds of each metric present, and the same for the curves. Written as
/// <c>results.json</c>, <c>results.md</c>, <c>results.svg</c> and (with curves) <c>curves.svg</c>.
/// </summary>
/// <param name="Spec">The experiment.</param>
/// <param name="Metrics">The metrics present, in order of first appearance.</param>
/// <param name="Configs">The configurations' results, in spec order.</param>
public sealed record ExperimentReport(ExperimentSpec Spec, IReadOnlyList<string> Metrics, IReadOnlyList<ConfigResult> Configs)
{
    /// <summary>The results of the runs of <paramref name="spec"/> (<paramref name="runs"/>: all of them) that have finished.</summary>
    public static ExperimentReport Build(ExperimentSpec spec, IReadOnlyList<ExperimentRun> runs)
    {
        var results = runs.Select(RunResult.Read).OfType<RunResult>().ToList();
        var metrics = results.SelectMany(r => r.Metrics.Select(m => m.Key))
            .Concat(results.SelectMany(r => r.Curve).SelectMany(p => p.Metrics.Select(m => m.Key))).Distinct().ToList();
        var configs = spec.Configs.Select(c =>
        {
            var mine = results.Where(r => r.Run.Config == c.Name).OrderBy(r => IndexOf(spec.Seeds, r.Run.Seed)).ToList();
            var stats = metrics.Select(m => new KeyValuePair<string, SampleStats>(m, SampleStats.Of(mine.Select(r => r[m]).OfType<double>()))).ToList();
            return new ConfigResult(c, spec.Differences(c), spec.Seeds, mine, stats, CurveOf(mine, metrics));
        }).ToList();
        return new ExperimentReport(spec, metrics, configs);
    }

    private static int IndexOf(IReadOnlyList<ulong> seeds, ulong seed)
    {
        for (int i = 0; i < seeds.Count; i++) if (seeds[i] == seed) return i;
        return seeds.Count;
    }

    private static List<CurveRow> CurveOf(IReadOnlyList<RunResult> runs, IReadOnlyList<string> metrics) =>
        runs.SelectMany(r => r.Curve).GroupBy(p => p.Step).OrderBy(g => g.Key).Select(g =>
        {
            var stats = metrics.Select(m => new KeyValuePair<string, SampleStats>(m,
                SampleStats.Of(g.SelectMany(p => p.Metrics.Where(x => x.Key == m).Select(x => x.Value)))));
            return new CurveRow(g.Key, g.First().Epoch, stats.Where(s => s.Value.N > 0).ToList());
        }).ToList();

    /// <summary>True when some run wrote a curve.</summary>
    public bool HasCurves => Configs.Any(c => c.Curve.Count > 0);

    /// <summary>Writes <c>results.json</c>, <c>results.md</c>, <c>results.svg</c> and, with curves, <c>curves.svg</c> into
    /// <paramref name="outDir"/> (each atomically); returns the paths written.</summary>
    public IReadOnlyList<string> Write(string outDir)
    {
        var written = new List<string>();
        void Save(string name, string text)
        {
            string path = Path.Combine(outDir, name);
            AtomicFile.WriteAllText(path, text);
            written.Add(path);
        }
        Save("results.json", JsonLine.Indented(ToJson()) + "\n");
        Save("results.md", ExperimentMarkdown.Document(this));
        Save("results.svg", ExperimentPlots.Bars(this));
        if (HasCurves) Save("curves.svg", ExperimentPlots.Curves(this));
        return written;
    }

    /// <summary>The contents of <c>results.json</c>.</summary>
    public Dictionary<string, object?> ToJson() => new()
    {
        ["name"] = Spec.Name,
        ["spec"] = Spec.Source,
        ["seeds"] = Spec.Seeds,
        ["metrics"] = Metrics,
        ["configs"] = Configs.Select(c => new Dictionary<string, object?>
        {
            ["config"] = c.Config.Name,
            ["options"] = c.Differences.ToDictionary(p => p.Key, p => (object?)p.Value),
            ["finished"] = c.Runs.Count,
            ["metrics"] = c.Metrics.ToDictionary(m => m.Key, m => (object?)StatsJson(m.Value, c.Runs.Select(r => r[m.Key]).ToList())),
            ["curve"] = c.Curve.Select(row => new Dictionary<string, object?>
            {
                ["epoch"] = row.Epoch, ["step"] = row.Step,
                ["metrics"] = row.Metrics.ToDictionary(m => m.Key, m => (object?)StatsJson(m.Value, null)),
            }).ToList(),
        }).ToList(),
        ["runs"] = Configs.SelectMany(c => c.Seeds.Select(seed => (c, seed, r: c.Runs.FirstOrDefault(r => r.Run.Seed == seed)))).Select(x =>
            new Dictionary<string, object?>
            {
                ["run"] = $"{x.c.Config.Name}-s{x.seed}", ["config"] = x.c.Config.Name, ["seed"] = x.seed, ["finished"] = x.r is not null,
                ["steps"] = x.r?.Steps, ["train_seconds"] = x.r?.TrainSeconds,
                ["metrics"] = x.r?.Metrics.ToDictionary(m => m.Key, m => (object?)m.Value),
            }).ToList(),
    };

    private static Dictionary<string, object?> StatsJson(SampleStats s, IReadOnlyList<double?>? values)
    {
        var o = new Dictionary<string, object?> { ["n"] = s.N, ["mean"] = Number(s.Mean), ["std"] = Number(s.Std) };
        if (values is not null) o["values"] = values;
        return o;
    }

    private static double? Number(double x) => double.IsFinite(x) ? x : null;
}
