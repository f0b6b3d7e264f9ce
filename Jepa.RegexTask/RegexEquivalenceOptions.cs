namespace Jepa.RegexTask;

/// <summary>How expressions are compiled to automata when they are compared.</summary>
/// <param name="MaxStates">
/// Cap on the states of any automaton built on the way (each intermediate one included); past it the
/// comparison reports <see cref="RegexVerdict.TooComplex"/>. The 10,000 NL-RX-SYNTH expressions stay far below
/// the default.
/// </param>
/// <param name="WordBoundary">What <c>\b</c> denotes; see <see cref="WordBoundaryMode"/>.</param>
public sealed record RegexEquivalenceOptions(int MaxStates = 20_000, WordBoundaryMode WordBoundary = WordBoundaryMode.EmptyString)
{
    /// <summary>The defaults: a 20,000-state cap and <c>\b</c> as the empty string.</summary>
    public static RegexEquivalenceOptions Default { get; } = new();
}
