using System.Globalization;
using System.Text;

namespace Jepa.Cli.Experiments;

/// <summary>The markdown of <c>results.md</c>: the results table (mean ± std in percent with the per-seed values) and,
/// when runs wrote curves, the accuracy by epoch.</summary>
public static class ExperimentMarkdown
{
    /// <summary>The whole <c>results.md</c>.</summary>
    public static string Document(ExperimentReport report)
    {
        var sb = new StringBuilder();
        sb.Append("# Experiment ").Append(report.Spec.Name).Append("\n\n");
        sb.Append("Accuracy in percent: mean ± sample standard deviation over seeds (n − 1), then the value of each seed in the order ")
            .Append(string.Join(", ", report.Spec.Seeds)).Append(". Options: how a config differs from the base.\n\n");
        sb.Append(Table(report));
        if (report.HasCurves)
        {
            sb.Append("\n## During training\n\nAccuracy in percent at each evaluation, mean ± std over seeds (n: seeds evaluated).\n\n");
            sb.Append(CurveTable(report));
        }
        return sb.ToString();
    }

    /// <summary>The results table: config, options that differ from the base, finished seeds, each metric.</summary>
    public static string Table(ExperimentReport report)
    {
        var sb = new StringBuilder();
        Row(sb, ["config", "options", "seeds", .. report.Metrics.Select(m => m + " (%)")]);
        Row(sb, [.. Enumerable.Repeat("---", 3 + report.Metrics.Count)]);
        foreach (var c in report.Configs)
        {
            string seeds = c.Runs.Count == c.Seeds.Count ? $"{c.Runs.Count}" : $"{c.Runs.Count}/{c.Seeds.Count}";
            var cells = report.Metrics.Select(m =>
            {
                var s = c[m];
                if (s.N == 0) return "–";
                string values = string.Join(", ", c.Runs.Select(r => r[m] is { } v ? Percent(v) : "–"));
                return (s.N > 1 ? $"{Percent(s.Mean)} ± {Percent(s.Std)}" : Percent(s.Mean)) + $" ({values})";
            });
            Row(sb, [c.Config.Name, Options(c.Differences), seeds, .. cells]);
        }
        return sb.ToString();
    }

    /// <summary>The curve table: one row per config and evaluation step.</summary>
    public static string CurveTable(ExperimentReport report)
    {
        var sb = new StringBuilder();
        Row(sb, ["config", "epoch", "step", "n", .. report.Metrics.Select(m => m + " (%)")]);
        Row(sb, [.. Enumerable.Repeat("---", 4 + report.Metrics.Count)]);
        foreach (var c in report.Configs)
            foreach (var row in c.Curve)
            {
                int n = row.Metrics.Select(m => m.Value.N).DefaultIfEmpty(0).Max();
                var cells = report.Metrics.Select(m => row.Metrics.FirstOrDefault(x => x.Key == m).Value is { } s
                    ? s.N > 1 ? $"{Percent(s.Mean)} ± {Percent(s.Std)}" : Percent(s.Mean) : "–");
                Row(sb, [c.Config.Name, row.Epoch.ToString("0.##", CultureInfo.InvariantCulture), row.Step.ToString(CultureInfo.InvariantCulture),
                    n.ToString(CultureInfo.InvariantCulture), .. cells]);
            }
        return sb.ToString();
    }

    /// <summary>Options as <c>name=value</c>, a path as its file name, an unset option as <c>name unset</c>; "—" for none.</summary>
    public static string Options(IReadOnlyList<KeyValuePair<string, string?>> options) =>
        options.Count == 0 ? "—" : string.Join(", ", options.Select(p => p.Value switch
        {
            null => $"{p.Key} unset",
            "true" => p.Key,
            { } v when Path.IsPathRooted(v) => $"{p.Key}={Path.GetFileName(v.TrimEnd(Path.DirectorySeparatorChar))}",
            { } v => $"{p.Key}={v}",
        }));

    private static string Percent(double x) => (100 * x).ToString("F1", CultureInfo.InvariantCulture);

    private static void Row(StringBuilder sb, IEnumerable<string> cells) =>
        sb.Append("| ").Append(string.Join(" | ", cells.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal)))).Append(" |\n");
}
