using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa generate</c>: the model's answer to one prompt.</summary>
public sealed class GenerateCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("generate", "--model DIR --prompt TEXT [options]",
        """
        Generates the assistant turn for a user prompt with a key/value cache: greedy by default, or sampled
        with --temperature and --top-p. Prints the answer on standard output.
        """,
        [
            new("model", "DIR", "a saved model, a checkpoint folder or a Hugging Face model folder; its tokenizer and chat format come with it"),
            new("prompt", "TEXT", "the user turn (the Text view)"),
            new("system", "TEXT", "a system prompt", "none"),
            .. CommonOptions.Generation,
            CommonOptions.Adapter,
            CommonOptions.Device,
            CommonOptions.Precision,
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "generate the answer to a prompt";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string modelDir = args.Required("model"), prompt = args.Required("prompt");
        var generation = CommonOptions.GenerationFrom(args);
        using var model = CommonOptions.OpenModel(args, modelDir);
        string answer = model.Generate(prompt, generation, args.String("system"));
        context.Out.WriteLine(args.Flag("json")
            ? JsonLine.Of(new Dictionary<string, object?> { ["prompt"] = prompt, ["completion"] = answer })
            : answer);
        return ExitCodes.Ok;
    }
}
