using Jepa.Cli;

namespace Jepa.Tests.Cli;

/// <summary>What one in-process run of the command line printed and returned.</summary>
internal sealed record CliOutcome(int Code, string Out, string Err)
{
    public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Err}";
}

/// <summary>Runs <c>jepa</c> in process with its own writers (never the global console, so test classes can run in parallel).</summary>
internal static class CliRunner
{
    public static CliOutcome Run(params string[] args) => Run(CancellationToken.None, args);

    public static CliOutcome Run(CancellationToken cancellation, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.RunAsync(args, stdout, stderr, cancellation).GetAwaiter().GetResult();
        return new CliOutcome(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A tiny model and short run as a --config file: trains a few steps in well under a second.</summary>
    public const string TinyConfig = """
        {
          "model": { "d_model": 16, "layers": 1, "heads": 2, "kv_heads": 1, "ffn": 32, "max_length": 160 },
          "batch": 4,
          "lr": 0.003,
          "device": "cpu",
          "max_new_tokens": 6
        }
        """;
}
