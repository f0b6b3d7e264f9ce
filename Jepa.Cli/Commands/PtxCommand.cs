using System.Globalization;
using ILGPU.Runtime.Cuda;
using Jepa.Cli.Options;
using Jepa.Kernels;

namespace Jepa.Cli.Commands;

/// <summary>
/// <c>jepa ptx</c>: writes every kernel of <see cref="KernelCatalog"/> as a PTX file, compiled without a GPU, for an
/// assembler-level check (<c>scripts/ptx-check.sh</c> runs CUDA's <c>ptxas</c> on them).
/// </summary>
public sealed class PtxCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("ptx", "--out DIR [--arch sm_90] [--isa 7.8]",
        """
        Compiles every kernel to PTX with ILGPU's PTX backend (no GPU needed) and writes one file per kernel,
        DIR/<Type>.<Method>.ptx. ISA 7.8 is the newest PTX version CUDA 11.8's ptxas accepts; it covers SM 90.
        scripts/ptx-check.sh assembles these files and reports registers, spills and the instruction mix.
        Exits 1 when a kernel does not compile (each one is named on standard error).
        """,
        [
            new("out", "DIR", "folder for the .ptx files (created if missing)"),
            OptionSpec.Choice("arch", "target GPU architecture", "sm_90", "sm_70", "sm_75", "sm_80", "sm_86", "sm_89", "sm_90"),
            OptionSpec.Choice("isa", "PTX instruction set version", "7.8", "7.5", "7.8", "8.0"),
        ]);

    /// <inheritdoc />
    public string Summary => "write every kernel's PTX to a folder (for scripts/ptx-check.sh)";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string outDir = args.Required("out");
        var arch = ParseArchitecture(args.Choice("arch") ?? "sm_90");
        var isa = ParseInstructionSet(args.Choice("isa") ?? "7.8");
        Directory.CreateDirectory(outDir);
        int failed = 0;
        foreach (var r in KernelCatalog.CompilePtx(arch, isa))
        {
            if (r.Error is not null)
            {
                context.Error.WriteLine($"jepa ptx: {r.Name} does not compile to PTX: {r.Error}");
                failed++;
                continue;
            }
            File.WriteAllText(Path.Combine(outDir, r.Name + ".ptx"), r.Ptx);
            context.Out.WriteLine($"{r.Name}.ptx  {r.PtxBytes} bytes");
        }
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary><c>sm_90</c> → SM 9.0.</summary>
    private static CudaArchitecture ParseArchitecture(string name) =>
        new(int.Parse(name[3..^1], CultureInfo.InvariantCulture), int.Parse(name[^1..], CultureInfo.InvariantCulture));

    /// <summary><c>7.8</c> → ISA 7.8.</summary>
    private static CudaInstructionSet ParseInstructionSet(string version)
    {
        var parts = version.Split('.');
        return new(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
