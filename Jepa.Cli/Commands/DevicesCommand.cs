using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Core;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa devices</c>: the accelerators ILGPU can use here.</summary>
public sealed class DevicesCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("devices", "[--json]",
        "Lists the accelerators ILGPU can use on this machine, GPUs first. The first is the automatic choice\n" +
        "unless JEPA_DEVICE=cpu|cuda|opencl or --device says otherwise.",
        [CommonOptions.Json]);

    /// <inheritdoc />
    public string Summary => "list the accelerators ILGPU can use here";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        foreach (var d in Device.Enumerate())
            context.Out.WriteLine(args.Flag("json")
                ? JsonLine.Of(new Dictionary<string, object?>
                {
                    ["kind"] = d.Kind.Name(), ["index"] = d.Index, ["name"] = d.Name, ["memory_bytes"] = d.MemoryBytes, ["details"] = d.Detail,
                })
                : d.ToString());
        return ExitCodes.Ok;
    }
}
