using System.Text;
using Jepa.Training;
using Jepa.Training.Data;
using Jepa.Training.Evaluation;
using Jepa.Training.Generation;

namespace Jepa.Cli.Support;

/// <summary>Runs an evaluation with progress on standard error (redrawn in place on a terminal, every tenth otherwise) and
/// writes the per-example predictions as JSONL.</summary>
public static class EvalRunner
{
    /// <summary>
    /// Evaluates <paramref name="model"/> on <paramref name="examples"/> and writes one JSON line per example to
    /// <paramref name="predictionsPath"/> (when not null): <c>text</c>, <c>reference</c>, <c>prediction</c>,
    /// <c>correct</c> (and <c>error</c> when no answer could be generated). <paramref name="batchSize"/> answers are
    /// decoded together (the answers do not depend on it).
    /// </summary>
    public static EvalResult Run(JepaModel model, IReadOnlyList<PairExample> examples, AnswerMetric metric, GenerateOptions options,
        string? predictionsPath, CliContext context, int batchSize = Generator.DefaultBatchSize) =>
        Run(model, examples, new AnswerScorer(metric), options, predictionsPath, context, batchSize);

    /// <summary>As <see cref="Run(JepaModel, IReadOnlyList{PairExample}, AnswerMetric, GenerateOptions, string?, CliContext, int)"/>,
    /// scoring with <paramref name="scorer"/>.</summary>
    public static EvalResult Run(JepaModel model, IReadOnlyList<PairExample> examples, AnswerScorer scorer, GenerateOptions options,
        string? predictionsPath, CliContext context, int batchSize = Generator.DefaultBatchSize)
    {
        var progress = new Progress(context, examples.Count);
        var result = Evaluator.Evaluate(model, examples, scorer, options, progress, context.Cancellation, batchSize);
        progress.Finish();
        if (predictionsPath is not null) WritePredictions(predictionsPath, result);
        return result;
    }

    /// <summary>Writes the records as JSONL (UTF-8, '\n' endings).</summary>
    public static void WritePredictions(string path, EvalResult result)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var w = new StreamWriter(path, append: false, new UTF8Encoding(false)) { NewLine = "\n" };
        foreach (var r in result.Records)
        {
            var o = new Dictionary<string, object?> { ["text"] = r.Text, ["reference"] = r.Reference, ["prediction"] = r.Prediction, ["correct"] = r.Correct };
            if (r.Error is not null) o["error"] = r.Error;
            w.WriteLine(JsonLine.Of(o));
        }
    }

    /// <summary>
    /// Prints <paramref name="result"/> as <c>jepa eval</c> and <c>jepa score</c> do: the accuracy line, and for a Spider
    /// metric the other Spider figure on the next line (<paramref name="companion"/>); with <paramref name="json"/>, one
    /// JSON object (<see cref="Summary"/>, the other figure under <c>also</c>, and <paramref name="extra"/>).
    /// </summary>
    public static void Print(EvalResult result, EvalResult? companion, bool json, CliContext context, IReadOnlyDictionary<string, object?>? extra = null)
    {
        if (json)
        {
            var summary = Summary(result);
            if (companion is not null) summary["also"] = Summary(companion);
            foreach (var (k, v) in extra ?? new Dictionary<string, object?>()) summary[k] = v;
            context.Out.WriteLine(JsonLine.Of(summary));
            return;
        }
        context.Out.WriteLine(result);
        if (companion is not null) context.Out.WriteLine(companion);
    }

    /// <summary>The accuracy as a JSON-ready object.</summary>
    public static Dictionary<string, object?> Summary(EvalResult r) => new()
    {
        ["metric"] = r.Metric.Name(), ["accuracy"] = r.Accuracy, ["correct"] = r.Correct, ["count"] = r.Count,
    };

    private sealed class Progress(CliContext context, int total) : IProgress<EvalRecord>
    {
        private int _done, _correct, _length;

        public void Report(EvalRecord value)
        {
            _done++;
            if (value.Correct) _correct++;
            if (!context.ErrorIsTerminal)
            {
                if (_done % Math.Max(1, total / 10) == 0 || _done == total) context.Error.WriteLine($"evaluated {_done}/{total} (correct so far {_correct})");
                return;
            }
            string line = $"evaluating {_done}/{total}  correct so far {_correct}";
            context.Error.Write("\r" + line.PadRight(_length));
            context.Error.Flush();
            _length = line.Length;
        }

        public void Finish()
        {
            if (_length > 0) context.Error.WriteLine();
        }
    }
}
