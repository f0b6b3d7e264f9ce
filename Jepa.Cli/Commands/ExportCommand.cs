using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Core.Safetensors;
using Jepa.Training.Model;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa export</c>: a base model with a LoRA adapter folded in, saved in the Hugging Face layout.</summary>
public sealed class ExportCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("export", "--model DIR --adapter DIR --out DIR [options]",
        """
        Loads the base model and the LoRA adapter, folds the adapter into the weights (W += (alpha/r) B A) and saves
        the merged model as a Hugging Face folder: config.json, model.safetensors, tokenizer and chat format.
        """,
        [
            new("model", "DIR", "the base: a saved model, a checkpoint folder or a Hugging Face model folder"),
            new("adapter", "DIR", "the LoRA adapter folder (jepa train's RUN/adapter, or a PEFT folder)"),
            new("out", "DIR", "where the merged model goes (must not hold a model already)"),
            CommonOptions.Device,
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "merge a LoRA adapter into its base model and save it";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string modelDir = args.Required("model"), outDir = args.Required("out");
        args.Required("adapter");
        if (File.Exists(Path.Combine(outDir, SafetensorsReader.SingleFileName)) || File.Exists(Path.Combine(outDir, HfCheckpoint.ConfigFile)))
            throw new IOException($"'{outDir}' already holds a model; choose another --out.");
        using var model = CommonOptions.OpenModel(args, modelDir);
        model.MergeLora();
        model.Save(outDir);
        context.Out.WriteLine(args.Flag("json")
            ? JsonLine.Of(new Dictionary<string, object?> { ["model"] = outDir, ["parameters"] = model.Model.Config.ParameterCount() })
            : $"merged model saved in {outDir}");
        return ExitCodes.Ok;
    }
}
