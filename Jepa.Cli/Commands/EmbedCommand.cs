using System.Text;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa embed</c>: JEPA embeddings of Text (and Code) views, one JSON line each.</summary>
public sealed class EmbedCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("embed", "--model DIR (--data FILE | --text TEXT) --out FILE.jsonl [options]",
        """
        Writes the JEPA embedding Pred(Enc(text)) of each Text view (the user turn of each example of --data,
        or --text): the final hidden state at the last of k [PRED] tokens placed inside the user turn, as training
        lays the Text view out by default (see --placement, --text-token). With --views code or both, also (or
        instead) the embedding Enc(code) of each example's Code view (its assistant turn alone) at the token training
        embeds it at (see --code-token). One JSON line per embedding:
        {"index": i, "view": "text"|"code", "text": ..., "embedding": [...]}, where index is the example's and text
        the view's content. 'jepa plot --embeddings FILE' maps them in two dimensions.
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
            JepaLayoutOptions.CodeToken,
            JepaLayoutOptions.LastToken,
            OptionSpec.Choice("views", "which views to embed (code and both need --data)", "text", "text", "code", "both"),
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
        string views = args.Choice("views") ?? "text";
        if (views != "text" && args.Has("text")) throw new UsageException($"--views {views} embeds Code views, which --text does not have; give --data FILE.");
        IReadOnlyList<Jepa.Training.Data.PairExample> examples = args.String("text") is { } t ? [new(null, t, "")]
            : DataFiles.Read(args.Required("data"), args.Flag("skip-bad"), context);
        using var model = CommonOptions.OpenModel(args, modelDir);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        int dim = 0, written = 0;
        using (var w = new StreamWriter(outPath, append: false, new UTF8Encoding(false)) { NewLine = "\n" })
        {
            for (int i = 0; i < examples.Count; i++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                if (views != "code") Write(i, "text", examples[i].Text, model.Embed(examples[i].Text, layout));
                if (views != "text") Write(i, "code", examples[i].Code, model.EmbedCode(examples[i].Code, layout));
            }

            void Write(int index, string view, string content, float[] e)
            {
                dim = e.Length;
                written++;
                w.WriteLine(JsonLine.Of(new Dictionary<string, object?> { ["index"] = index, ["view"] = view, ["text"] = content, ["embedding"] = e }));
            }
        }
        context.Out.WriteLine(args.Flag("json")
            ? JsonLine.Of(new Dictionary<string, object?> { ["count"] = written, ["dimension"] = dim, ["out"] = outPath })
            : $"wrote {written} embedding(s) of dimension {dim} to {outPath}");
        return ExitCodes.Ok;
    }
}
