using Jepa.Cli.Options;
using Jepa.Core;
using Jepa.Training;
using Jepa.Training.Generation;

namespace Jepa.Cli.Support;

/// <summary>Options several commands share, with one spelling and one meaning.</summary>
public static class CommonOptions
{
    /// <summary><c>--device cpu|cuda|opencl</c>.</summary>
    public static OptionSpec Device { get; } = OptionSpec.Choice("device", "accelerator to run on", "JEPA_DEVICE, else the best present", "cpu", "cuda", "opencl");

    /// <summary><c>--skip-bad</c>.</summary>
    public static OptionSpec SkipBad { get; } = OptionSpec.Flag("skip-bad", "skip malformed JSONL lines (each is reported) instead of stopping at the first");

    /// <summary><c>--json</c>.</summary>
    public static OptionSpec Json { get; } = OptionSpec.Flag("json", "print JSON objects on standard output instead of text");

    /// <summary><c>--adapter DIR</c>.</summary>
    public static OptionSpec Adapter { get; } = new("adapter", "DIR", "a LoRA adapter folder (jepa train's RUN/adapter, or a PEFT folder) loaded onto --model", "none");

    /// <summary>The model of <c>--model</c> (a saved model, a checkpoint or a Hugging Face folder) with the LoRA adapter of
    /// <c>--adapter</c> when given, on the device of <c>--device</c>.</summary>
    public static JepaModel OpenModel(ParsedArgs args, string modelDir)
    {
        var model = JepaModel.Open(modelDir, DeviceFrom(args));
        try
        {
            if (args.String("adapter") is { } adapter)
            {
                if (!Directory.Exists(adapter)) throw new DirectoryNotFoundException($"Adapter folder '{adapter}' does not exist.");
                model.LoadLora(adapter);
            }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Decoding options.</summary>
    public static OptionSpec[] Generation { get; } =
    [
        new("max-new-tokens", "N", "most tokens to generate per answer", "64"),
        new("temperature", "T", "sampling temperature; 0 decodes greedily", "0"),
        new("top-p", "P", "nucleus sampling: keep the most likely tokens up to this probability", "1"),
        new("sample-seed", "S", "seed of the sampler", "0"),
    ];

    /// <summary>The device chosen by <c>--device</c>, or null for <c>JEPA_DEVICE</c> / the best present.</summary>
    public static DeviceOptions? DeviceFrom(ParsedArgs args) => DeviceFrom(args.Choice("device"));

    /// <summary>The device named <paramref name="name"/>, or null for the automatic choice.</summary>
    public static DeviceOptions? DeviceFrom(string? name) => name is null ? null : new DeviceOptions { Kind = DeviceKindNames.Parse(name) };

    /// <summary>The decoding options.</summary>
    public static GenerateOptions GenerationFrom(ParsedArgs args)
    {
        var o = new GenerateOptions(args.PositiveInt("max-new-tokens") ?? 64, args.Float("temperature") ?? 0f, args.Float("top-p") ?? 1f,
            args.ULong("sample-seed") ?? 0);
        try { return o.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }
}
