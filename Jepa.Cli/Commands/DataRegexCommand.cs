using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.RegexTask;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa data regex</c>: writes NL-RX-style (description, regex) pairs as chat JSONL.</summary>
public sealed class DataRegexCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("data regex", "--count N --out FILE [--seed S]",
        """
        Generates NL-RX-SYNTH-style pairs (an English description and its regular expression) in the chat
        "messages" format of the LLM-JEPA data sets. Deterministic: example i of a seed is always the same,
        whatever the count. jepa train uses seed 1 for training and seed 2 for held-out pairs.
        """,
        [
            new("count", "N", "number of pairs", "1000"),
            new("seed", "S", "seed", "1"),
            new("out", "FILE", "the JSONL file to write (replaced atomically)"),
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "generate NL-RX-style regex pairs as JSONL";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string outPath = args.Required("out");
        int count = args.PositiveInt("count") ?? 1000;
        ulong seed = args.ULong("seed") ?? 1;
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        RegexPairGenerator.WriteJsonl(outPath, count, seed);
        context.Out.WriteLine(args.Flag("json")
            ? JsonLine.Of(new Dictionary<string, object?> { ["count"] = count, ["seed"] = seed, ["out"] = outPath })
            : $"wrote {count} regex pairs (seed {seed}) to {outPath}");
        return ExitCodes.Ok;
    }
}
