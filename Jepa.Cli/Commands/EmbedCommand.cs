using System.Text;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa embed</c>: JEPA embeddings of Text views, one JSON line each.</summary>
public sealed class EmbedCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("embed", "--model DIR (--data FILE | --text TEXT) --out FILE.jsonl [options]",
        """
        Writes the JEPA embedding Pred(Enc(text)) of each Text view (the user turn of each example of --data,
        or --text): the final hidden state at the last of k [PRED] tokens placed inside the user turn, as training
        lays the Text view out by default (see --placement, --embed-token). One JSON line per text:
        {"text": ..., "embedding": [...]}.
        """,
        [
            new("model", "DIR", "a saved model, a checkpoint folder or a Hugging Face model folder; its tokenizer and chat format come with it"),
            new("data", "FILE", "pairs (JSONL) whose user turns are embedded"),
            new("text", "TEXT", "one text to embed"),
            new("out", "FILE.jsonl", "where the embeddings go"),
            new("predictors", "k", "[PRED] tokens (0: Enc(text) alone)", "1"),
            JepaLayoutOptions.Placement,
            OptionSpec.Flag("front-pred", "the same as --placement front"),
            JepaLayoutOptions.TextToken,
            JepaLayoutOptions.LastToken,
            CommonOptions.Adapter,
            CommonOptions.Device,
            CommonOptions.SkipBad,
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "write JEPA embeddings of texts as JSONL";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string modelDir = args.Required("model"), outPath = args.Required("out");
        if (args.Has("data") == args.Has("text")) throw new UsageException("give exactly one of --data FILE and --text TEXT.");
        var layout = JepaLayoutOptions.From(args, new Jepa.Training.Objective.JepaOptions { Predictors = args.NonNegativeInt("predictors") ?? 1 });
        IReadOnlyList<string> texts = args.String("text") is { } t ? [t]
            : DataFiles.Read(args.Required("data"), args.Flag("skip-bad"), context).Select(e => e.Text).ToArray();
        using var model = CommonOptions.OpenModel(args, modelDir);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        int dim = 0;
        using (var w = new StreamWriter(outPath, append: false, new UTF8Encoding(false)) { NewLine = "\n" })
        {
            foreach (string text in texts)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                float[] e = model.Embed(text, layout);
                dim = e.Length;
                w.WriteLine(JsonLine.Of(new Dictionary<string, object?> { ["text"] = text, ["embedding"] = e }));
            }
        }
        context.Out.WriteLine(args.Flag("json")
            ? JsonLine.Of(new Dictionary<string, object?> { ["count"] = texts.Count, ["dimension"] = dim, ["out"] = outPath })
            : $"wrote {texts.Count} embedding(s) of dimension {dim} to {outPath}");
        return ExitCodes.Ok;
    }
}
