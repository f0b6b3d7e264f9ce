using System.Text.Json;
using Jepa.Cli.Support;

namespace Jepa.Cli.Experiments;

/// <summary>One evaluation during training, a line of a run's <c>curve.jsonl</c>:
/// <c>{"epoch": e, "step": s, "eval": {"metric", "accuracy", …}, "exact": {…}}</c>.</summary>
/// <param name="Epoch">The epoch (possibly fractional).</param>
/// <param name="Step">The optimizer step.</param>
/// <param name="Metrics">Metric name → accuracy.</param>
public sealed record CurvePoint(double Epoch, int Step, IReadOnlyList<KeyValuePair<string, double>> Metrics);

/// <summary>What a finished run reports: its accuracies from <c>summary.json</c> and its curve from <c>curve.jsonl</c> when present.</summary>
/// <param name="Run">The run.</param>
/// <param name="Metrics">Metric name → accuracy (the <c>"eval"</c> metric, then <c>"exact"</c> when scored apart), in that order.</param>
/// <param name="Steps">Optimizer steps trained.</param>
/// <param name="TrainSeconds">Training time of the last invocation of <c>jepa train</c> (a resumed run counts only its last part).</param>
/// <param name="Curve">The evaluations during training, in file order (empty without <c>curve.jsonl</c>).</param>
public sealed record RunResult(ExperimentRun Run, IReadOnlyList<KeyValuePair<string, double>> Metrics, int? Steps, double? TrainSeconds,
    IReadOnlyList<CurvePoint> Curve)
{
    /// <summary>The accuracy of <paramref name="metric"/>, or null when the run did not score it.</summary>
    public double? this[string metric] => Metrics.Where(m => m.Key == metric).Select(m => (double?)m.Value).FirstOrDefault();

    /// <summary>The result of <paramref name="run"/>, or null when it has no <c>summary.json</c> (not finished).</summary>
    /// <exception cref="InvalidDataException">The summary or curve is malformed; the message names the file (and line).</exception>
    public static RunResult? Read(ExperimentRun run)
    {
        string path = run.Run.SummaryPath;
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object.");
            int? steps = root.TryGetProperty("steps", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : null;
            double? seconds = root.TryGetProperty("train_seconds", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
            return new RunResult(run, MetricsOf(root), steps, seconds, ReadCurve(run.Run.CurvePath));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON ({e.Message}).", e);
        }
    }

    /// <summary>The accuracies of the <c>"eval"</c> and <c>"exact"</c> objects of a summary or curve line (absent or null: none).</summary>
    public static IReadOnlyList<KeyValuePair<string, double>> MetricsOf(JsonElement row)
    {
        var list = new List<KeyValuePair<string, double>>();
        foreach (string field in (string[])["eval", "exact"])
        {
            if (!row.TryGetProperty(field, out var o) || o.ValueKind != JsonValueKind.Object) continue;
            if (!o.TryGetProperty("metric", out var m) || m.ValueKind != JsonValueKind.String) continue;
            if (!o.TryGetProperty("accuracy", out var a) || a.ValueKind != JsonValueKind.Number) continue;
            string name = m.GetString()!;
            if (list.All(p => p.Key != name)) list.Add(new(name, a.GetDouble()));
        }
        return list;
    }

    /// <summary>The points of a <c>curve.jsonl</c> file; none when it does not exist.</summary>
    /// <exception cref="InvalidDataException">A line is malformed; the message names file and line.</exception>
    public static IReadOnlyList<CurvePoint> ReadCurve(string path)
    {
        if (!File.Exists(path)) return [];
        var points = JsonlObjects.Read(path, (r, lineNo) =>
        {
            int step = 0;
            if (!r.TryGetProperty("step", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt32(out step)
                || !r.TryGetProperty("epoch", out var e) || e.ValueKind != JsonValueKind.Number)
                throw new InvalidDataException($"{path}:{lineNo}: expected an object with a numeric \"epoch\" and an integer \"step\".");
            return new CurvePoint(e.GetDouble(), step, MetricsOf(r));
        });
        return points;
    }
}
