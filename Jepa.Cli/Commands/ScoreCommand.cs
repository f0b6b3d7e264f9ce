using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training.Evaluation;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa score</c>: scores saved predictions with a metric, without a model.</summary>
public sealed class ScoreCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("score", "--predictions PRED.jsonl [--data FILE] [options]",
        """
        Scores saved predictions again, with any metric, without the model: PRED.jsonl is what jepa eval --out
        or a training run's eval.jsonl holds (text, reference, prediction per line). With --data, the i-th
        prediction answers the i-th example of FILE, whose prompt and reference are used; a prediction whose
        text or reference differs from its example's stops the command (the files do not line up). A file of
        fewer predictions scores the first examples only (said on standard error). An example that failed to
        generate (an "error" field) counts wrong. Prints the accuracy as jepa eval does.
        """ + "\n\n" + CommonOptions.MetricHelp,
        [
            new("predictions", "PRED.jsonl", "the predictions to score"),
            new("data", "FILE", "the evaluation pairs the predictions answer, JSONL (chat \"messages\" or {\"text\",\"code\"})", "the text and reference in PRED.jsonl"),
            CommonOptions.Metric,
            CommonOptions.SpiderDb,
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "score saved predictions again with any metric, without a model";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string predictionsPath = args.Required("predictions");
        string? dataPath = args.String("data");
        var scorer = CommonOptions.ScorerFrom(args);
        var predictions = PredictionsFile.Read(predictionsPath);
        var data = dataPath is null ? null : DataFiles.Read(dataPath, skipBad: false, context);
        var records = PredictionsFile.Records(predictionsPath, predictions, dataPath, data);
        if (data is not null && records.Count < data.Count)
            context.Error.WriteLine($"{predictionsPath} has {records.Count} predictions for the {data.Count} examples of {dataPath}: scoring the first {records.Count}.");
        for (int i = 0; i < records.Count; i++)
            if (scorer.Problem(records[i].Text) is { } problem) throw new InvalidDataException($"{predictionsPath}:{predictions[i].Line}: {problem}.");
        var result = new EvalResult(scorer.Metric, records).Rescore(scorer);
        var companion = CommonOptions.CompanionOf(scorer) is { } other ? result.Rescore(other) : null;
        EvalRunner.Print(result, companion, args.Flag("json"), context);
        return ExitCodes.Ok;
    }
}
