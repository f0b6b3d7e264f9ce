namespace Jepa.Cli;

/// <summary>Where a command writes and what stops it: standard output and error, and the Ctrl+C token.</summary>
/// <param name="Out">Results (and JSON lines with --json).</param>
/// <param name="Error">Progress, warnings and errors.</param>
/// <param name="ErrorIsTerminal">True when <paramref name="Error"/> is a terminal, so a progress bar can redraw in place.</param>
/// <param name="Cancellation">Cancelled by Ctrl+C.</param>
public sealed record CliContext(TextWriter Out, TextWriter Error, bool ErrorIsTerminal, CancellationToken Cancellation)
{
    /// <summary>Columns available for a progress line.</summary>
    public int Width
    {
        get
        {
            if (!ErrorIsTerminal) return 100;
            try { return Math.Clamp(Console.WindowWidth, 40, 200); }
            catch (IOException) { return 100; }
        }
    }
}
