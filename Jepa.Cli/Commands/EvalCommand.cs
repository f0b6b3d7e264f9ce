using System.Globalization;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training;
using Jepa.Training.Evaluation;
using Jepa.Training.Generation;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa eval</c>: generates an answer for each example and prints the accuracy with its count.</summary>
public sealed class EvalCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("eval", "--model DIR --data FILE [options]",
        """
        Generates an answer (greedy by default) for the user turn of each example and scores it against the
        assistant turn. Prints the accuracy with its count, e.g. 'exact match 41.2 % (412/1000)'; --out writes
        one JSON line per example: text, reference, prediction, correct. --batch N answers are decoded together
        (a prompt joins the batch when its length matches the batch's position); the answers are the same as
        one at a time.
        jepa score re-scores the predictions file with another metric, without the model.
        """ + "\n\n" + CommonOptions.MetricHelp,
        [
            new("model", "DIR", "a saved model (jepa train's DIR/model), a checkpoint folder or a Hugging Face model folder; its tokenizer and chat format come with it"),
            new("data", "FILE", "evaluation pairs, JSONL (chat \"messages\" or {\"text\",\"code\"})"),
            CommonOptions.Metric,
            CommonOptions.SpiderDb,
            new("count", "N", "evaluate only the first N examples", "all"),
            new("out", "PRED.jsonl", "write per-example predictions here"),
            new("batch", "N", "answers decoded together (the answers are the same for any N; 1 decodes one at a time)", Generator.DefaultBatchSize.ToString(CultureInfo.InvariantCulture)),
            .. CommonOptions.Generation,
            CommonOptions.Adapter,
            CommonOptions.Device,
            CommonOptions.Precision,
            CommonOptions.SkipBad,
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "score a model's generated answers (exact, startswith, gsm8k, nq, regex, spider, …)";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string modelDir = args.Required("model"), dataPath = args.Required("data");
        var scorer = CommonOptions.ScorerFrom(args);
        int? count = args.PositiveInt("count");
        int batch = args.PositiveInt("batch") ?? Generator.DefaultBatchSize;
        var generation = CommonOptions.GenerationFrom(args);
        var examples = DataFiles.Read(dataPath, args.Flag("skip-bad"), context);
        if (count is { } n && n < examples.Count) examples = examples.Take(n).ToArray();
        for (int i = 0; i < examples.Count; i++)
            if (scorer.Problem(examples[i].Text) is { } problem) throw new InvalidDataException($"{dataPath}: example {i + 1}: {problem}.");
        using var model = CommonOptions.OpenModel(args, modelDir);
        string? outPath = args.String("out");
        var result = EvalRunner.Run(model, examples, scorer, generation, outPath, context, batch);
        var companion = CommonOptions.CompanionOf(scorer) is { } other ? result.Rescore(other) : null;
        bool json = args.Flag("json");
        EvalRunner.Print(result, companion, json, context, new Dictionary<string, object?> { ["predictions"] = outPath });
        if (!json && outPath is not null) context.Out.WriteLine($"predictions in {outPath}");
        int failed = result.Records.Count(r => r.Error is not null);
        if (result.Count > 0 && failed == result.Count)
        {
            context.Error.WriteLine($"jepa eval: no example could be scored: all {failed} failed to generate (first: {result.Records[0].Error}).");
            return ExitCodes.Failure;
        }
        return ExitCodes.Ok;
    }
}
