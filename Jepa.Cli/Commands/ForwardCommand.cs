using System.Globalization;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Kernels;
using Jepa.Training;
using Jepa.Training.Autograd;
using Jepa.Training.Model;
using Jepa.Training.Training;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa forward</c>: one forward pass over given token ids, its logits and final hidden states written as
/// safetensors, to hold this implementation against another.</summary>
public sealed class ForwardCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("forward", "--model DIR (--ids 1,2,3 | --ids-file F) --out FILE.safetensors [options]",
        """
        Runs the model once over one sequence of token ids (positions 0, 1, ..., causal attention, no chat template,
        no tokenizer) and writes float32 safetensors: "logits" [T, V] and "hidden" [T, C], the last layer's hidden
        states after the final norm (the LM head's input; Hugging Face's model.model(ids).last_hidden_state).
        The weights are used as the folder holds them: no [PRED] rows are added to a Hugging Face vocabulary.
        """,
        [
            new("model", "DIR", "a Hugging Face model folder (config.json, model.safetensors or shards), a model saved by jepa, or a checkpoint folder"),
            new("ids", "LIST", "token ids separated by commas, e.g. 1,2,3"),
            new("ids-file", "F", "a file of token ids separated by commas, spaces or line breaks"),
            new("out", "FILE.safetensors", "where the logits and hidden states go (written atomically; refused if not finite)"),
            CommonOptions.Device,
            CommonOptions.Precision,
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "write one forward pass's logits and hidden states for given token ids";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string modelDir = args.Required("model"), outPath = args.Required("out");
        if (args.Has("ids") == args.Has("ids-file")) throw new UsageException("give exactly one of --ids LIST and --ids-file F.");
        int[] ids = args.String("ids") is { } list ? ParseIds(list, "--ids")
            : ParseIds(File.ReadAllText(args.Required("ids-file")), args.Required("ids-file"));
        if (!Directory.Exists(modelDir)) throw new DirectoryNotFoundException($"Model folder '{modelDir}' does not exist.");
        bool checkpoint = RunDirectory.IsCheckpoint(modelDir);
        var config = checkpoint ? RunDirectory.ReadState(modelDir).Model : HfCheckpoint.ReadConfig(modelDir);
        if (ids.Length > config.MaxLength)
            throw new ArgumentException($"{ids.Length} token ids are more than the model's maximum length {config.MaxLength}.");
        int bad = Array.FindIndex(ids, id => id >= config.VocabSize);
        if (bad >= 0) throw new ArgumentException($"token id {ids[bad]} (position {bad}) is not below the model's vocab_size {config.VocabSize}.");

        var (logits, hidden, vocab, width) = checkpoint ? FromCheckpoint(modelDir, ids, args) : FromFolder(modelDir, ids, args);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        SafetensorsWriter.Write(outPath, new Dictionary<string, HostTensor>
        {
            ["logits"] = new(logits, ids.Length, vocab),
            ["hidden"] = new(hidden, ids.Length, width),
        }, new Dictionary<string, string> { ["input_ids"] = string.Join(",", ids), ["hidden"] = "after the final norm" });
        context.Out.WriteLine(args.Flag("json")
            ? JsonLine.Of(new Dictionary<string, object?> { ["tokens"] = ids.Length, ["vocab"] = vocab, ["hidden"] = width, ["out"] = outPath })
            : $"wrote logits [{ids.Length}, {vocab}] and hidden [{ids.Length}, {width}] to {outPath}");
        return ExitCodes.Ok;
    }

    private static (float[] Logits, float[] Hidden, int Vocab, int Width) FromFolder(string modelDir, int[] ids, ParsedArgs args)
    {
        using var device = Device.Create(CommonOptions.DeviceFrom(args));
        using var model = HfCheckpoint.Load(modelDir, new KernelLibrary(device), trainable: false);
        return Forward(model, ids);
    }

    private static (float[] Logits, float[] Hidden, int Vocab, int Width) FromCheckpoint(string modelDir, int[] ids, ParsedArgs args)
    {
        using var model = JepaModel.Load(modelDir, CommonOptions.DeviceFrom(args));
        return Forward(model.Model, ids);
    }

    /// <summary>The model's logits [T, V] and final hidden states [T, C] over one sequence of <paramref name="ids"/>.</summary>
    public static (float[] Logits, float[] Hidden, int Vocab, int Width) Forward(LlamaModel model, int[] ids)
    {
        using var batch = new SequenceBatch(model.Device, 1, ids.Length, ids, model.Config.VocabSize);
        using var tape = new Tape(model.Ops, recordGradients: false);
        var hidden = model.Forward(tape, batch);
        var logits = model.Logits(tape, hidden);
        return (logits.Value.ToArray(), hidden.Value.ToArray(), model.Config.VocabSize, model.Config.DModel);
    }

    /// <summary>Token ids separated by commas or white space; <paramref name="source"/> names the input in errors.</summary>
    /// <exception cref="ArgumentException">No ids, or one that is not an integer ≥ 0.</exception>
    public static int[] ParseIds(string text, string source)
    {
        var parts = text.Split([',', ' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException($"{source} holds no token ids.");
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new ArgumentException($"{source}: '{parts[i]}' (token {i}) is not a token id (an integer ≥ 0).");
        return ids;
    }
}
