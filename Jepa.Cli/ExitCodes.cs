namespace Jepa.Cli;

/// <summary>The process exit codes of <c>jepa</c>.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>Bad input (a missing or malformed file, an absent device) or a failed check.</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong (unknown command or option, missing or malformed value).</summary>
    public const int Usage = 2;

    /// <summary>Interrupted by Ctrl+C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
