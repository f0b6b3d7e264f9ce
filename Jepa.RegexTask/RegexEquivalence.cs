using System.Diagnostics.CodeAnalysis;

namespace Jepa.RegexTask;

/// <summary>
/// Semantic equivalence of NL-RX regular expressions, the "DFA-equal" accuracy of the NL-RX papers: two
/// expressions are equivalent when they match exactly the same whole lines. Each expression is compiled to
/// a minimal DFA (<see cref="RegexAutomaton"/>) over one alphabet shared by both, whose symbols are the
/// character classes that no character set of either expression tells apart plus "any other character"
/// (exact, not sampled), and the two DFAs are compared by a breadth-first search of their product, which
/// yields a shortest distinguishing line when they differ. Identical texts are equivalent without building
/// automata, as in the original NL-RX scorer.
/// </summary>
/// <remarks>
/// <c>\b</c> is the empty string by default (see <see cref="WordBoundaryMode"/> for why and for the
/// alternative). The text is taken as is: surrounding spaces are literal characters of the dialect.
/// </remarks>
public static class RegexEquivalence
{
    /// <summary>Compares two expressions; never throws for malformed or oversized input.</summary>
    public static RegexComparison Compare(string first, string second, RegexEquivalenceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (!RegexParser.TryParse(first, out var a, out var errorA))
            return new RegexComparison(RegexVerdict.ParseError, "first expression: " + errorA.Message);
        if (!RegexParser.TryParse(second, out var b, out var errorB))
            return new RegexComparison(RegexVerdict.ParseError, "second expression: " + errorB.Message);
        if (string.Equals(first, second, StringComparison.Ordinal)) return new RegexComparison(RegexVerdict.Equivalent, null);
        return Compare(a, b, options);
    }

    /// <summary>Compares two parsed expressions; never throws for oversized input.</summary>
    public static RegexComparison Compare(RegexNode first, RegexNode second, RegexEquivalenceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        options ??= RegexEquivalenceOptions.Default;
        try
        {
            var (alphabet, dfas) = RegexAutomaton.CompileTogether([first, second], options);
            var word = Dfa.Distinguish(dfas[0], dfas[1]);
            if (word is null) return new RegexComparison(RegexVerdict.Equivalent, null);
            string witness = RegexAutomaton.Spell(alphabet, word);
            bool firstMatches = dfas[0].Accepts(word);
            string quoted = System.Text.Json.JsonSerializer.Serialize(witness);
            return new RegexComparison(RegexVerdict.Different,
                $"the line {quoted} is matched by the {(firstMatches ? "first" : "second")} expression only", witness, firstMatches);
        }
        catch (RegexTooComplexException e)
        {
            return new RegexComparison(RegexVerdict.TooComplex, e.Message);
        }
    }

    /// <summary>True when the two expressions match the same lines.</summary>
    /// <exception cref="RegexParseException">An expression is malformed.</exception>
    /// <exception cref="RegexTooComplexException">An automaton passed the state cap.</exception>
    public static bool AreEquivalent(string first, string second, RegexEquivalenceOptions? options = null)
    {
        var a = RegexParser.Parse(first);
        var b = RegexParser.Parse(second);
        if (string.Equals(first, second, StringComparison.Ordinal)) return true;
        var result = Compare(a, b, options);
        if (result.Verdict == RegexVerdict.TooComplex) throw new RegexTooComplexException(result.Reason!);
        return result.AreEquivalent;
    }

    /// <summary>
    /// True when both expressions parse and match the same lines; false otherwise, with the reason (a parse
    /// error with its position, the state cap, or a distinguishing line). Use it to score a model's output:
    /// malformed output counts as wrong instead of throwing.
    /// </summary>
    public static bool TryAreEquivalent(string first, string second, [NotNullWhen(false)] out string? reason, RegexEquivalenceOptions? options = null)
    {
        var result = Compare(first, second, options);
        reason = result.AreEquivalent ? null : result.Reason!;
        return result.AreEquivalent;
    }

    /// <summary>True when <paramref name="pattern"/> matches the whole of <paramref name="line"/>.</summary>
    /// <exception cref="RegexParseException">The pattern is malformed.</exception>
    /// <exception cref="RegexTooComplexException">An automaton passed the state cap.</exception>
    public static bool IsMatch(string pattern, string line, RegexEquivalenceOptions? options = null) =>
        RegexAutomaton.Compile(pattern, options).IsMatch(line);
}
