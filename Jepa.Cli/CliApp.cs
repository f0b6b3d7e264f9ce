using Jepa.Cli.Commands;
using Jepa.Cli.Options;

namespace Jepa.Cli;

/// <summary>
/// The <c>jepa</c> command line: dispatches a sub-command and turns errors into one line on standard error and
/// an exit code (<see cref="ExitCodes"/>): never a stack trace, unless <c>JEPA_DEBUG=1</c>.
/// </summary>
public static class CliApp
{
    /// <summary>Every command, in the order of the command list.</summary>
    public static IReadOnlyList<ICommand> Commands { get; } =
    [
        new TrainCommand(), new ExperimentCommand(), new EvalCommand(), new ScoreCommand(), new GenerateCommand(), new EmbedCommand(), new DataRegexCommand(),
        new DataSplitCommand(), new TokenizerTrainCommand(),
        new ExportCommand(), new ForwardCommand(), new DevicesCommand(), new SelfTestCommand(), new BenchCommand(), new PtxCommand(), new PlotCommand(),
    ];

    /// <summary>
    /// Runs the command line on the process console and returns the exit code. The first Ctrl+C cancels the
    /// command (training saves a checkpoint); a second one ends the process.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler handler = (_, e) =>
        {
            if (cts.IsCancellationRequested) return; // second Ctrl+C: let the process end
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += handler;
        try
        {
            return await RunAsync(args, Console.Out, Console.Error, cts.Token, errorIsTerminal: !Console.IsErrorRedirected);
        }
        finally
        {
            Console.CancelKeyPress -= handler;
        }
    }

    /// <summary>
    /// Runs the command line writing to <paramref name="stdout"/> and <paramref name="stderr"/> (tests pass
    /// string writers); <paramref name="cancellation"/> plays the part of Ctrl+C.
    /// </summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default,
        bool errorIsTerminal = false)
    {
        ArgumentNullException.ThrowIfNull(args);
        var context = new CliContext(stdout, stderr, errorIsTerminal, cancellation);
        return Task.Run(() => Run(args, context), CancellationToken.None);
    }

    /// <summary>Runs the command line on the calling thread with <paramref name="context"/> (what <c>jepa experiment</c> runs its
    /// <c>jepa train</c> runs through): errors become one line on the context's error writer and an exit code.</summary>
    internal static int Run(string[] args, CliContext context)
    {
        if (args.Length == 0)
        {
            context.Error.WriteLine(Usage());
            return ExitCodes.Usage;
        }
        if (args[0] is "-h" or "--help" or "help")
        {
            context.Out.WriteLine(Usage());
            return ExitCodes.Ok;
        }
        if (args[0] is "--version")
        {
            context.Out.WriteLine(typeof(CliApp).Assembly.GetName().Version?.ToString(3) ?? "unknown");
            return ExitCodes.Ok;
        }
        var (command, rest) = Find(args);
        string name = command?.Options.Command ?? args[0];
        try
        {
            if (command is null) throw new UsageException(UnknownCommand(args));
            var parsed = command.Options.Parse(rest);
            if (parsed.HelpRequested)
            {
                context.Out.WriteLine(command.Options.Help());
                return ExitCodes.Ok;
            }
            return command.Run(parsed, context);
        }
        catch (UsageException e)
        {
            context.Error.WriteLine($"jepa {name}: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            context.Error.WriteLine($"jepa {name}: interrupted.");
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (IsUserFacing(e))
        {
            context.Error.WriteLine($"jepa {name}: {OneLine(e)}");
            if (Debug) context.Error.WriteLine(e);
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            context.Error.WriteLine($"jepa {name}: internal error: {e.GetType().Name}: {OneLine(e)}" +
                (Debug ? Environment.NewLine + e : " (set JEPA_DEBUG=1 for the stack trace)"));
            return ExitCodes.Failure;
        }
    }

    /// <summary>The exception's message on one line: without .NET's "(Parameter 'x')" and "Actual value was" additions,
    /// and any other line break turned into "; ".</summary>
    public static string OneLine(Exception e)
    {
        string m = e.Message;
        if (e is ArgumentException a)
        {
            if (a is ArgumentOutOfRangeException { ActualValue: { } actual } && m.IndexOf('\n') is int nl and >= 0 && m[nl..].Contains($"{actual}"))
                m = m[..nl];
        }
        m = System.Text.RegularExpressions.Regex.Replace(m, @" \(Parameter '[^']*'\)", "");
        return string.Join("; ", m.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static bool Debug => Environment.GetEnvironmentVariable("JEPA_DEBUG") is "1" or "true";

    private static bool IsUserFacing(Exception e) =>
        e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or OutOfMemoryException
            or NotSupportedException or FormatException or Jepa.Training.Training.TrainingDivergedException;

    private static (ICommand? Command, string[] Arguments) Find(string[] args)
    {
        foreach (var c in Commands)
        {
            string[] words = c.Options.Command.Split(' ');
            if (args.Length >= words.Length && words.SequenceEqual(args[..words.Length], StringComparer.Ordinal))
                return (c, args[words.Length..]);
        }
        return (null, args[1..]);
    }

    private static string UnknownCommand(string[] args)
    {
        var group = Commands.Where(c => c.Options.Command.StartsWith(args[0] + " ", StringComparison.Ordinal)).ToList();
        if (group.Count > 0)
            return args.Length == 1
                ? $"'{args[0]}' needs a sub-command: {string.Join(", ", group.Select(c => c.Options.Command))}."
                : $"unknown sub-command '{args[0]} {args[1]}'. Valid: {string.Join(", ", group.Select(c => c.Options.Command))}.";
        return $"unknown command '{args[0]}'. Valid commands: {string.Join(", ", Commands.Select(c => c.Options.Command.Split(' ')[0]).Distinct())}. Run 'jepa --help'.";
    }

    /// <summary>The top-level help text.</summary>
    public static string Usage()
    {
        int w = Commands.Max(c => c.Options.Command.Length);
        var lines = Commands.Select(c => $"  {c.Options.Command.PadRight(w)}  {c.Summary}");
        return $"""
            jepa — train and fine-tune language models with LLM-JEPA on GPUs through ILGPU

            usage: jepa <command> [options]      (jepa <command> --help for its options)

            commands:
            {string.Join(Environment.NewLine, lines)}

            Exit codes: 0 success, 1 bad input or failed check, 2 bad command line, 130 interrupted (Ctrl+C).
            Set JEPA_DEVICE=cpu|cuda|opencl to override the automatic device choice.
            """;
    }
}
