namespace Jepa.Training.Data;

/// <summary>
/// One training example: two views of one concept. <see cref="Text"/> is the user turn (e.g. an English
/// description), <see cref="Code"/> the assistant turn (e.g. its regular expression).
/// </summary>
/// <param name="System">The system prompt, or null for none.</param>
/// <param name="Text">The Text view (user message).</param>
/// <param name="Code">The Code view (assistant message).</param>
public sealed record PairExample(string? System, string Text, string Code);
