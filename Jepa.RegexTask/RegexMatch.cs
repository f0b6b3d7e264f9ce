
namespace Jepa.RegexTask;

/// <summary>
/// NL-RX semantic accuracy: the generated regex is correct when it matches exactly the same lines as the
/// reference (<see cref="RegexEquivalence.Compare(string, string, RegexEquivalenceOptions?)"/> is
/// <see cref="RegexVerdict.Equivalent"/>). Both are trimmed first. A prediction
/// that does not parse, or whose automaton passes the state cap, is wrong.
/// </summary>
public static class RegexMatch
{
    /// <summary>True when both expressions parse and are equivalent.</summary>
    public static bool IsCorrect(string prediction, string reference) =>
        RegexEquivalence.Compare(prediction.Trim(), reference.Trim()).Verdict == RegexVerdict.Equivalent;
}
