namespace Jepa.RegexTask;

/// <summary>Outcome of comparing two expressions.</summary>
public enum RegexVerdict
{
    /// <summary>Both parse and accept the same language.</summary>
    Equivalent,

    /// <summary>Both parse and some line is matched by exactly one of them (see <see cref="RegexComparison.Witness"/>).</summary>
    Different,

    /// <summary>At least one expression is malformed.</summary>
    ParseError,

    /// <summary>An automaton passed <see cref="RegexEquivalenceOptions.MaxStates"/>.</summary>
    TooComplex,
}

/// <summary>The result of <see cref="RegexEquivalence.Compare(string, string, RegexEquivalenceOptions?)"/>.</summary>
/// <param name="Verdict">What the comparison found.</param>
/// <param name="Reason">Null when equivalent; otherwise a sentence saying why not (the parse error, the cap, or the witness).</param>
/// <param name="Witness">
/// For <see cref="RegexVerdict.Different"/>: a shortest line matched by exactly one expression, spelled with one
/// representative character per character class; otherwise null.
/// </param>
/// <param name="WitnessMatchesFirst">For a witness: true when the first expression matches it (and the second does not).</param>
public sealed record RegexComparison(RegexVerdict Verdict, string? Reason, string? Witness = null, bool WitnessMatchesFirst = false)
{
    /// <summary>True when the verdict is <see cref="RegexVerdict.Equivalent"/>.</summary>
    public bool AreEquivalent => Verdict == RegexVerdict.Equivalent;
}
