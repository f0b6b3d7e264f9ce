using Jepa.Training.Data;
using Jepa.Training.Generation;

namespace Jepa.Training.Evaluation;

/// <summary>Generates an answer for each example's Text view and scores it against its Code view.</summary>
public static class Evaluator
{
    /// <summary>
    /// Evaluates <paramref name="model"/> on <paramref name="examples"/>: for each, generates from the example's
    /// system prompt and Text view with <paramref name="options"/> (default: greedy) and scores the answer with
    /// <paramref name="metric"/>. An example whose prompt does not fit the model's maximum length counts as wrong
    /// and carries the reason in <see cref="EvalRecord.Error"/>. <paramref name="progress"/> sees each record as
    /// it is scored.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled.</exception>
    public static EvalResult Evaluate(JepaModel model, IReadOnlyList<PairExample> examples, AnswerMetric metric,
        GenerateOptions? options = null, IProgress<EvalRecord>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(examples);
        options = (options ?? new GenerateOptions()).Validate();
        var records = new EvalRecord[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var e = examples[i];
            int promptLength = model.Template.Prompt(e.System, e.Text).Length;
            EvalRecord record;
            if (promptLength >= model.Model.Config.MaxLength)
            {
                record = new EvalRecord(e.Text, e.Code, "", false,
                    $"the prompt has {promptLength} tokens; the model's maximum length is {model.Model.Config.MaxLength}");
            }
            else
            {
                string prediction = model.Generate(e.Text, options, e.System);
                record = new EvalRecord(e.Text, e.Code, prediction, metric.IsCorrect(prediction, e.Code));
            }
            records[i] = record;
            progress?.Report(record);
        }
        return new EvalResult(metric, records);
    }
}
