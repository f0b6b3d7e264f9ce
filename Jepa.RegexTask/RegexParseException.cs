namespace Jepa.RegexTask;

/// <summary>A malformed NL-RX regular expression: where the parser stopped and why.</summary>
public sealed class RegexParseException : FormatException
{
    /// <summary>An error at <paramref name="position"/> of <paramref name="pattern"/>.</summary>
    public RegexParseException(string pattern, int position, string reason)
        : base($"Malformed regular expression at position {position}: {reason}. Pattern: \"{pattern}\"")
    {
        Pattern = pattern;
        Position = position;
        Reason = reason;
    }

    /// <summary>The text that failed to parse.</summary>
    public string Pattern { get; }

    /// <summary>Zero-based index into <see cref="Pattern"/> where the error was found (its length at end of input).</summary>
    public int Position { get; }

    /// <summary>What was wrong, without the position (e.g. "expected ')' to close the group opened at 3").</summary>
    public string Reason { get; }
}
