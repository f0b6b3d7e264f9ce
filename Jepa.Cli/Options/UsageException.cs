namespace Jepa.Cli.Options;

/// <summary>The command line itself is wrong (unknown command or option, missing or malformed value): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
