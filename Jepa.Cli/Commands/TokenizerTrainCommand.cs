using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training.Data;
using Jepa.Training.Tokenization;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa tokenizer train</c>: trains a byte-level BPE tokenizer on a data set's text and saves it as a Hugging Face tokenizer.json.</summary>
public sealed class TokenizerTrainCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("tokenizer train", "--data FILE --out tokenizer.json [--vocab N]",
        """
        Trains a GPT-2-style byte-level BPE tokenizer on every system, Text and Code string of a JSONL data set
        (chat "messages" or {"text", "code"} lines) and writes it as a Hugging Face tokenizer.json, with the chat
        and [PRED] special tokens. Deterministic: the same data gives the same merges.
        """,
        [
            new("data", "FILE", "the JSONL training data"),
            new("out", "FILE", "the tokenizer.json to write (replaced atomically)"),
            new("vocab", "N", "total vocabulary size, special tokens included", "1024"),
            new("predictors", "k", "number of [PRED] tokens to reserve", "8"),
            new("min-frequency", "N", "a pair must occur this often to be merged", "2"),
            new("skip-bad", null, "skip malformed JSONL lines (counted) instead of stopping"),
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "train a byte-level BPE tokenizer (Hugging Face tokenizer.json)";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string data = args.Required("data");
        string outPath = args.Required("out");
        int vocab = args.PositiveInt("vocab") ?? 1024;
        int predictors = args.Int("predictors") ?? SpecialTokens.DefaultPredictorCount;
        int minFrequency = args.PositiveInt("min-frequency") ?? 2;
        var read = JsonlPairReader.Read(data, args.Flag("skip-bad"));
        foreach (var problem in read.Problems) context.Error.WriteLine($"skipped {problem}");
        var texts = read.Examples.SelectMany(e => e.System is null ? new[] { e.Text, e.Code } : [e.System, e.Text, e.Code]);
        var tokenizer = BpeTrainer.Train(texts, vocab, predictors, minFrequency);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        tokenizer.Save(outPath);
        context.Out.WriteLine(args.Flag("json")
            ? JsonLine.Of(new Dictionary<string, object?> { ["vocab"] = tokenizer.VocabSize, ["merges"] = tokenizer.Merges.Count, ["examples"] = read.Examples.Count, ["skipped"] = read.Skipped, ["out"] = outPath })
            : $"trained a BPE tokenizer of {tokenizer.VocabSize} ids ({tokenizer.Merges.Count} merges) on {read.Examples.Count} examples; wrote {outPath}");
        return ExitCodes.Ok;
    }
}
