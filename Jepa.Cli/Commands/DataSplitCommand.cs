using Jepa.Core;
using System.Globalization;
using System.Text;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training.Data;
using Jepa.Training.Training;

namespace Jepa.Cli.Commands;

/// <summary>
/// <c>jepa data split</c>: splits a JSONL data set into a training part and a held-out (validation) part of N
/// lines chosen by a seeded permutation (<see cref="DataOrder.Permutation"/>); lines are copied verbatim and keep
/// their order in the file.
/// </summary>
public sealed class DataSplitCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("data split", "--data FILE --holdout N --train-out A.jsonl --holdout-out B.jsonl [--seed S]",
        """
        Carves a held-out (validation) split of N examples out of a JSONL data set (chat "messages" lines or
        {"text","code"} lines): the first N of a seeded permutation of its examples go to --holdout-out, the others
        to --train-out. Lines are copied verbatim and keep their file order; blank lines are dropped. The same seed
        gives the same files. Choose settings on the validation split; score the test split once.
        """,
        [
            new("data", "FILE", "the JSONL data set to split"),
            new("holdout", "N", "examples in the held-out part (fewer than the data set has)"),
            new("seed", "S", "seed of the permutation", "1"),
            new("train-out", "FILE", "the training part (written atomically)"),
            new("holdout-out", "FILE", "the held-out part (written atomically)"),
            OptionSpec.Flag("force", "replace output files that already exist"),
            CommonOptions.SkipBad,
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "split a JSONL data set into training and held-out parts (seeded)";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string data = args.Required("data");
        int holdout = args.PositiveInt("holdout") ?? throw new UsageException(
            $"'jepa data split' needs --holdout N. Run 'jepa data split --help'.");
        ulong seed = args.ULong("seed") ?? 1;
        string trainOut = args.Required("train-out"), holdoutOut = args.Required("holdout-out");
        string fullData = Path.GetFullPath(data), fullTrain = Path.GetFullPath(trainOut), fullHoldout = Path.GetFullPath(holdoutOut);
        if (fullTrain == fullHoldout) throw new UsageException("--train-out and --holdout-out must be different files.");
        if (fullTrain == fullData || fullHoldout == fullData) throw new UsageException("the outputs must not replace --data.");
        if (!args.Flag("force"))
            foreach (string path in (string[])[trainOut, holdoutOut])
                if (File.Exists(path)) throw new IOException($"'{path}' already exists; give --force to replace it.");

        var lines = ReadExamples(data, args.Flag("skip-bad"), context);
        if (holdout >= lines.Count)
            throw new InvalidDataException($"{data}: --holdout {holdout} leaves no training examples (the file has {lines.Count}).");

        var held = new bool[lines.Count];
        int[] order = DataOrder.Permutation(lines.Count, seed, epoch: 0);
        for (int i = 0; i < holdout; i++) held[order[i]] = true;
        var train = new StringBuilder();
        var test = new StringBuilder();
        for (int i = 0; i < lines.Count; i++) (held[i] ? test : train).Append(lines[i]).Append('\n');
        foreach (string path in (string[])[fullTrain, fullHoldout]) Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(fullTrain, train.ToString());
        AtomicFile.WriteAllText(fullHoldout, test.ToString());

        int trainCount = lines.Count - holdout;
        context.Out.WriteLine(args.Flag("json")
            ? JsonLine.Of(new Dictionary<string, object?>
            {
                ["data"] = data, ["examples"] = lines.Count, ["seed"] = seed, ["train"] = trainCount, ["train_out"] = trainOut,
                ["holdout"] = holdout, ["holdout_out"] = holdoutOut,
            })
            : string.Create(CultureInfo.InvariantCulture,
                $"split {lines.Count} examples of {data} (seed {seed}): {trainCount} to {trainOut}, {holdout} held out to {holdoutOut}"));
        return ExitCodes.Ok;
    }

    /// <summary>The non-blank lines of <paramref name="path"/>, each checked to be a pair example; malformed lines are an
    /// error naming file and line, or with <paramref name="skipBad"/> dropped and reported.</summary>
    private static List<string> ReadExamples(string path, bool skipBad, CliContext context)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        var lines = new List<string>();
        var problems = new List<string>();
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (JsonlPairReader.TryParse(line, out _) is not { } error)
            {
                lines.Add(line);
                continue;
            }
            string message = $"{path}:{lineNo}: {error}";
            if (!skipBad) throw new InvalidDataException(message + " (use --skip-bad to skip such lines)");
            problems.Add(message);
        }
        if (problems.Count > 0)
        {
            foreach (string p in problems.Take(5)) context.Error.WriteLine($"skipped {p}");
            if (problems.Count > 5) context.Error.WriteLine($"… and {problems.Count - 5} more malformed lines");
            context.Error.WriteLine($"{path}: skipped {problems.Count} malformed line(s), kept {lines.Count} example(s).");
        }
        if (lines.Count == 0) throw new InvalidDataException($"{path}: no examples.");
        return lines;
    }
}
