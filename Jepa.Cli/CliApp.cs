using Jepa.Core;

namespace Jepa.Cli;

/// <summary>The <c>jepa</c> command line: dispatches a sub-command and turns errors into exit codes.</summary>
public static class CliApp
{
    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return Task.FromResult(0);
        }
        try
        {
            return Task.FromResult(args[0] switch
            {
                "devices" => Devices(),
                _ => Unknown(args[0]),
            });
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or OutOfMemoryException)
        {
            Console.Error.WriteLine($"jepa {args[0]}: {e.Message}");
            return Task.FromResult(1);
        }
    }

    private const string Usage = """
        jepa — train and fine-tune language models with LLM-JEPA on GPUs through ILGPU

        usage: jepa <command> [options]

        commands:
          devices     list the accelerators ILGPU can use here

        Set JEPA_DEVICE=cpu|cuda|opencl to override the automatic device choice.
        """;

    private static int Unknown(string command)
    {
        Console.Error.WriteLine($"jepa: unknown command '{command}'. Run 'jepa --help' for the list.");
        return 2;
    }

    private static int Devices()
    {
        foreach (var d in Device.Enumerate()) Console.WriteLine(d);
        return 0;
    }
}
