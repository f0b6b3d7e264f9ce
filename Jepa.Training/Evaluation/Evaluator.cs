using Jepa.Training.Data;
using Jepa.Training.Generation;

namespace Jepa.Training.Evaluation;

/// <summary>Generates an answer for each example's Text view and scores it against its Code view.</summary>
public static class Evaluator
{
    /// <summary>Prompts handed to the decoder at once, in batches of the batch size.</summary>
    private const int WindowBatches = 8;

    /// <summary>
    /// Evaluates <paramref name="model"/> on <paramref name="examples"/>: for each, generates from the example's
    /// system prompt and Text view with <paramref name="options"/> (default: greedy) and scores the answer with
    /// <paramref name="metric"/>. Up to <paramref name="batchSize"/> answers are decoded together
    /// (<see cref="Generator.GenerateBatch"/>); the answers are the same as generating them one at
    /// a time, for any batch size. An example whose prompt does not fit the model's maximum length counts as wrong
    /// and carries the reason in <see cref="EvalRecord.Error"/>. <paramref name="progress"/> sees each record in
    /// example order, as soon as it and every record before it are scored.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled.</exception>
    public static EvalResult Evaluate(IChatModel model, IReadOnlyList<PairExample> examples, AnswerMetric metric,
        GenerateOptions? options = null, IProgress<EvalRecord>? progress = null, CancellationToken cancellation = default,
        int batchSize = Generator.DefaultBatchSize) =>
        Evaluate(model, examples, new AnswerScorer(metric), options, progress, cancellation, batchSize);

    /// <summary>As <see cref="Evaluate(IChatModel, IReadOnlyList{PairExample}, AnswerMetric, GenerateOptions?, IProgress{EvalRecord}?, CancellationToken, int)"/>,
    /// scoring with <paramref name="scorer"/> (which the Spider metrics need: it holds the databases). With
    /// <see cref="AnswerMetric.Hellaswag"/> nothing is generated: the prediction is the likeliest of
    /// <see cref="AnswerMetrics.Choices"/> as the prompt's next token (<see cref="NextTokenChoice"/>, up to
    /// <paramref name="batchSize"/> prompts a forward pass; <paramref name="options"/> is not used), and a prompt as
    /// long as the model's maximum length still fits.</summary>
    /// <exception cref="ArgumentException">With <see cref="AnswerMetric.Hellaswag"/>, a choice that is not one token for the model's tokenizer.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled.</exception>
    public static EvalResult Evaluate(IChatModel model, IReadOnlyList<PairExample> examples, AnswerScorer scorer,
        GenerateOptions? options = null, IProgress<EvalRecord>? progress = null, CancellationToken cancellation = default,
        int batchSize = Generator.DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        options = (options ?? new GenerateOptions()).Validate();
        cancellation.ThrowIfCancellationRequested();
        int maxLength = model.Model.Config.MaxLength;
        bool choose = scorer.Metric.ChoosesNextToken();
        int[] choices = choose ? NextTokenChoice.CandidateIds(model.Tokenizer, AnswerMetrics.Choices) : [];
        int longest = choose ? maxLength : maxLength - 1; // a generated answer needs one position more
        var records = new EvalRecord?[examples.Count];
        var prompts = new List<int[]>();
        var owners = new List<int>(); // prompts[k] belongs to examples[owners[k]]
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            int[] prompt = model.Template.Prompt(e.System, e.Text);
            if (prompt.Length > longest)
            {
                records[i] = new EvalRecord(e.Text, e.Code, "", false,
                    $"the prompt has {prompt.Length} tokens; the model's maximum length is {maxLength}");
                continue;
            }
            prompts.Add(prompt);
            owners.Add(i);
        }
        int reported = 0;
        void Report()
        {
            for (; reported < records.Length && records[reported] is { } r; reported++) progress?.Report(r);
        }
        Report();
        if (choose)
        {
            NextTokenChoice.Choose(model.Model, prompts, choices, batchSize, (k, choice) =>
            {
                var e = examples[owners[k]];
                string prediction = AnswerMetrics.Choices[choice];
                records[owners[k]] = new EvalRecord(e.Text, e.Code, prediction, scorer.IsCorrect(e.Text, prediction, e.Code));
                Report();
            }, cancellation);
            return new EvalResult(scorer.Metric, records.Select(r => r!).ToArray());
        }
        var stop = model.Template.StopIds.ToHashSet();
        // The decoder finishes prompts out of order; handing it a window at a time keeps the in-order progress moving.
        int window = (int)Math.Min(int.MaxValue, (long)batchSize * WindowBatches);
        for (int start = 0; start < prompts.Count; start += window)
        {
            int first = start;
            Generator.GenerateBatch(model.Model, prompts.GetRange(first, Math.Min(window, prompts.Count - first)), options, stop, batchSize, (k, tokens) =>
            {
                var e = examples[owners[first + k]];
                string prediction = model.Tokenizer.Decode(tokens);
                records[owners[first + k]] = new EvalRecord(e.Text, e.Code, prediction, scorer.IsCorrect(e.Text, prediction, e.Code));
                Report();
            }, cancellation);
        }
        return new EvalResult(scorer.Metric, records.Select(r => r!).ToArray());
    }
}
