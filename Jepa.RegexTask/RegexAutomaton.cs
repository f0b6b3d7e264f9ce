namespace Jepa.RegexTask;

/// <summary>
/// The minimal complete DFA of an NL-RX expression under whole-line matching: it accepts a line when the
/// expression matches the entire line (as the corpus writes <c>.*</c> explicitly where it means
/// "containing"). <c>~</c> complements with respect to all strings of UTF-16 code units, <c>&amp;</c>
/// intersects, and <c>\b</c> follows <see cref="RegexEquivalenceOptions.WordBoundary"/>.
/// The automaton runs over the atoms of a <see cref="CharAlphabet"/>: the classes of characters that no
/// character set of the expression tells apart.
/// </summary>
public sealed class RegexAutomaton
{
    private readonly CharAlphabet alphabet;

    private RegexAutomaton(CharAlphabet alphabet, Dfa dfa)
    {
        this.alphabet = alphabet;
        Dfa = dfa;
    }

    internal Dfa Dfa { get; }

    /// <summary>States of the minimal DFA (a rejecting sink included when there is one).</summary>
    public int StateCount => Dfa.StateCount;

    /// <summary>Number of character classes the automaton reads.</summary>
    public int AlphabetSize => alphabet.Size;

    /// <summary>True when the expression matches the whole of <paramref name="line"/>.</summary>
    public bool IsMatch(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return Dfa.Accepts(line.Select(alphabet.AtomOf));
    }

    /// <summary>Parses and compiles <paramref name="pattern"/>.</summary>
    /// <exception cref="RegexParseException">The pattern is malformed.</exception>
    /// <exception cref="RegexTooComplexException">An automaton on the way passed the state cap.</exception>
    public static RegexAutomaton Compile(string pattern, RegexEquivalenceOptions? options = null) =>
        Compile(RegexParser.Parse(pattern), options);

    /// <summary>Compiles <paramref name="node"/>.</summary>
    /// <exception cref="RegexTooComplexException">An automaton on the way passed the state cap.</exception>
    public static RegexAutomaton Compile(RegexNode node, RegexEquivalenceOptions? options = null)
    {
        options ??= RegexEquivalenceOptions.Default;
        var alphabet = AlphabetFor([node], options);
        return new RegexAutomaton(alphabet, Build(node, alphabet, options));
    }

    /// <summary>Compiles several expressions over one shared alphabet, so their automata can be compared.</summary>
    internal static (CharAlphabet Alphabet, Dfa[] Dfas) CompileTogether(IReadOnlyList<RegexNode> nodes, RegexEquivalenceOptions options)
    {
        var alphabet = AlphabetFor(nodes, options);
        return (alphabet, [.. nodes.Select(n => Build(n, alphabet, options))]);
    }

    internal static string Spell(CharAlphabet alphabet, IEnumerable<int> symbols) =>
        new([.. symbols.Select(a => alphabet.Representatives[a])]);

    internal static CharAlphabet AlphabetFor(IEnumerable<RegexNode> nodes, RegexEquivalenceOptions options)
    {
        var sets = new List<CharSet>();
        foreach (var node in nodes.SelectMany(n => n.Descendants()))
        {
            if (node is CharSetNode c) sets.Add(c.Set);
            else if (node is WordBoundaryNode && options.WordBoundary == WordBoundaryMode.LiteralB) sets.Add(CharSet.Single('b'));
        }
        return new CharAlphabet(sets);
    }

    private static Dfa Build(RegexNode node, CharAlphabet alphabet, RegexEquivalenceOptions options)
    {
        int k = alphabet.Size, cap = options.MaxStates;
        switch (node)
        {
            case CharSetNode c:
                return Dfa.OneOf(alphabet.AtomsOf(c.Set)).Minimize();
            case EmptyStringNode:
                return Dfa.EmptyString(k);
            case WordBoundaryNode:
                return options.WordBoundary == WordBoundaryMode.LiteralB
                    ? Dfa.OneOf(alphabet.AtomsOf(CharSet.Single('b'))).Minimize()
                    : Dfa.EmptyString(k);
            case ConcatNode concat:
            {
                var d = Build(concat.Items[0], alphabet, options);
                for (int i = 1; i < concat.Items.Count; i++)
                    d = Dfa.Concat(d, Build(concat.Items[i], alphabet, options), cap).Minimize();
                return d;
            }
            case UnionNode union:
            {
                var d = Build(union.Alternatives[0], alphabet, options);
                for (int i = 1; i < union.Alternatives.Count; i++)
                    d = Dfa.Product(d, Build(union.Alternatives[i], alphabet, options), union: true, cap).Minimize();
                return d;
            }
            case IntersectNode inter:
            {
                var d = Build(inter.Operands[0], alphabet, options);
                for (int i = 1; i < inter.Operands.Count; i++)
                    d = Dfa.Product(d, Build(inter.Operands[i], alphabet, options), union: false, cap).Minimize();
                return d;
            }
            case ComplementNode comp:
                // The complement of a minimal complete DFA is minimal.
                return Build(comp.Operand, alphabet, options).Complement();
            case RepeatNode rep:
            {
                var x = Build(rep.Operand, alphabet, options);
                var d = rep.Min > 0 ? x : Dfa.EmptyString(k);
                for (int i = 1; i < rep.Min; i++) d = Dfa.Concat(d, x, cap).Minimize();
                if (rep.Max is not int max)
                    return Dfa.Concat(d, Dfa.Star(x, cap).Minimize(), cap).Minimize();
                var optional = Dfa.Product(x, Dfa.EmptyString(k), union: true, cap).Minimize();
                for (int i = rep.Min; i < max; i++) d = Dfa.Concat(d, optional, cap).Minimize();
                return d;
            }
            default:
                throw new NotSupportedException($"Unknown regex node {node.GetType().Name}.");
        }
    }
}
