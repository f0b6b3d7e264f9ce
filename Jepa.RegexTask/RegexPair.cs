namespace Jepa.RegexTask;

/// <summary>Two views of one concept: an English description (<paramref name="Text"/>) and its regular expression (<paramref name="Code"/>).</summary>
/// <param name="Text">The description, e.g. "lines with a number before a capital letter".</param>
/// <param name="Code">The NL-RX regular expression, e.g. <c>([0-9]).*([A-Z]).*</c>.</param>
public sealed record RegexPair(string Text, string Code);
