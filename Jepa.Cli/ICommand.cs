using Jepa.Cli.Options;

namespace Jepa.Cli;

/// <summary>One sub-command of <c>jepa</c>.</summary>
public interface ICommand
{
    /// <summary>The command's options (its <c>--help</c> comes from them).</summary>
    OptionTable Options { get; }

    /// <summary>One line for the command list.</summary>
    string Summary { get; }

    /// <summary>Runs the command; returns the exit code.</summary>
    int Run(ParsedArgs args, CliContext context);
}
