using System.Text;

namespace Jepa.RegexTask;

/// <summary>The constructs of the NL-RX-SYNTH grammar (Locascio et al., 2016, data generation).</summary>
internal enum SynthKind
{
    // Literals (leaves).
    Number, Capital, Lower, Letter, Word, Character, Vowel,
    // Functions.
    Contains, Words, StartsWith, EndsWith, FollowedBy,
    // Modifiers.
    OneOrMore, NOrMore, ZeroOrMore, ContainsOnly,
    // Compositions.
    Or, Not, And, Before, And3, Or3,
}

/// <summary>One node of a generated NL-RX-SYNTH tree; <see cref="Count"/> is the n of "n or more times".</summary>
internal sealed class SynthNode(SynthKind kind, SynthNode[] children, int count)
{
    public SynthKind Kind { get; } = kind;

    public SynthNode[] Children { get; } = children;

    public int Count { get; } = count;
}

/// <summary>One argument of a construct: the constructs that may fill it (repeats weight the draw), and those of them that are literals.</summary>
internal sealed class SynthSlot(SynthKind[] candidates)
{
    /// <summary>Every candidate, drawn from while the tree is below its limits.</summary>
    public SynthKind[] Candidates { get; } = candidates;

    /// <summary>The literal candidates, drawn from once a limit is reached.</summary>
    public SynthKind[] Leaves { get; } = [.. candidates.Where(SynthGrammar.IsLiteral)];
}

/// <summary>
/// The NL-RX-SYNTH grammar: which constructs may fill each argument, the English and regex template of
/// each, the sentence clean-up rewrites, and the filters that reject awkward trees. It follows the
/// structure of the corpus' generator so that the phrasing and the regex shapes match the data set.
/// </summary>
internal static class SynthGrammar
{
    private static readonly SynthKind[] Literals =
    [
        SynthKind.Number, SynthKind.Capital, SynthKind.Lower, SynthKind.Letter,
        SynthKind.Word, SynthKind.Word, SynthKind.Word, SynthKind.Word, // strings are drawn four times as often
        SynthKind.Character, SynthKind.Vowel,
    ];

    private static readonly SynthKind[] Functions = [SynthKind.Contains, SynthKind.Words, SynthKind.StartsWith, SynthKind.EndsWith, SynthKind.FollowedBy];

    private static readonly SynthKind[] Modifiers = [SynthKind.OneOrMore, SynthKind.NOrMore, SynthKind.ZeroOrMore, SynthKind.ContainsOnly];

    private static readonly SynthKind[] Compositions = [SynthKind.Or, SynthKind.Not, SynthKind.And, SynthKind.Before, SynthKind.And3, SynthKind.Or3];

    private static readonly SynthKind[] AnyKind = [.. Functions, .. Compositions, .. Modifiers, .. Literals];

    private static readonly SynthKind[] AnyButLiteral = [.. Functions, .. Modifiers, .. Compositions];

    // The corpus' generator names this list "anything but a modifier", yet it holds the modifiers and leaves out
    // the compositions other than "or"; the data set was generated with it, so it is kept as it is.
    private static readonly SynthKind[] AnyButComposition = [.. Functions, .. Modifiers, .. Literals, SynthKind.Or];

    /// <summary>The single argument of the root ("lines ...").</summary>
    public static readonly SynthSlot[] RootSlots = [new(AnyButLiteral)];

    private static readonly SynthSlot[][] SlotTable = [.. Enum.GetValues<SynthKind>().Select(BuildSlots)];

    private static readonly string[] Fillers = ["dog", "truck", "ring", "lake"];

    private static readonly (string From, string To)[] Rewrites =
    [
        ("having containing", "containing"), ("having before", "before"), ("lines a", "lines with a"),
        ("lines not the", "lines not having the"), ("lines the", "lines with the"), ("lines not a", "lines not having a"),
        ("lines words", "lines with words"), ("having containing", "containing"), ("having starting", "starting"),
        ("having ending", "ending"), ("having not", "not having"), ("containing not", "not containing"),
        ("containing having", "containing"), ("having having", "having"), ("with having", "with"),
        ("lines with words with not a", "lines with words that don't have a"),
        ("lines with words with not", "lines with words that don't"), ("not not", "not"),
        ("lines either", "lines having either"), ("lines <and3> ", "lines having "), ("<and3> ", ""),
        ("words with containing", "words that contain"),
    ];

    private static readonly string[] AwkwardPhrases =
    [
        "letter before a letter", "starting with ending", "ending with starting", "starting with contains",
        "containing contains", "containing starting", "before starting", "starting with containing",
    ];

    public static bool IsLiteral(SynthKind k) => k <= SynthKind.Vowel;

    public static bool IsModifier(SynthKind k) => k is >= SynthKind.OneOrMore and <= SynthKind.ContainsOnly;

    /// <summary>The arguments of <paramref name="kind"/> (none for literals).</summary>
    public static SynthSlot[] Slots(SynthKind kind) => SlotTable[(int)kind];

    private static SynthSlot[] BuildSlots(SynthKind kind)
    {
        SynthKind[][] lists = kind switch
        {
            SynthKind.Contains or SynthKind.Not => [AnyKind],
            SynthKind.Words => [AnyButLiteral],
            SynthKind.StartsWith or SynthKind.EndsWith or SynthKind.OneOrMore or SynthKind.NOrMore or SynthKind.ZeroOrMore => [AnyButComposition],
            SynthKind.FollowedBy => [Literals, Literals],
            SynthKind.ContainsOnly => [Literals],
            SynthKind.Or or SynthKind.And or SynthKind.Before => [AnyKind, AnyKind],
            SynthKind.And3 or SynthKind.Or3 => [Literals, Literals, Literals],
            _ => [],
        };
        return [.. lists.Select(l => new SynthSlot(l))];
    }

    /// <summary>
    /// Grows the arguments (<paramref name="slots"/>) of a node at <paramref name="depth"/>. Below the depth
    /// limit, the node budget and two and/or compositions, any candidate may be drawn; past them only
    /// literals, and an argument that allows none fails the tree (null).
    /// </summary>
    public static SynthNode[]? GrowChildren(SynthSlot[] slots, int depth, int total, int comps, int maxDepth, int maxTotal, ref SynthRandom rng)
    {
        var kinds = new SynthKind[slots.Length];
        for (int i = 0; i < slots.Length; i++)
        {
            bool open = depth < maxDepth && total < maxTotal && comps < 2; // the counts include earlier siblings
            var candidates = open ? slots[i].Candidates : slots[i].Leaves;
            if (candidates.Length == 0) return null;
            var pick = candidates[rng.Next(candidates.Length)];
            total += 1 + Slots(pick).Length;
            if (pick is SynthKind.And or SynthKind.Or) comps++;
            kinds[i] = pick;
        }
        var children = new SynthNode[slots.Length];
        for (int i = 0; i < kinds.Length; i++)
        {
            var grand = GrowChildren(Slots(kinds[i]), depth + 1, total, comps, maxDepth, maxTotal, ref rng);
            if (grand is null) return null;
            int count = kinds[i] == SynthKind.NOrMore ? 2 + rng.Next(6) : 0;
            children[i] = new SynthNode(kinds[i], grand, count);
        }
        return children;
    }

    /// <summary>
    /// Probability that <see cref="GrowChildren"/> with the same limits grows exactly <paramref name="children"/>
    /// for <paramref name="slots"/> (the product of the probabilities of every draw it would make).
    /// </summary>
    public static double Probability(SynthSlot[] slots, SynthNode[] children, int depth, int total, int comps, int maxDepth, int maxTotal)
    {
        double p = 1;
        for (int i = 0; i < slots.Length; i++)
        {
            bool open = depth < maxDepth && total < maxTotal && comps < 2;
            var pick = children[i].Kind;
            var candidates = open ? slots[i].Candidates : slots[i].Leaves;
            int hits = 0;
            foreach (var k in candidates) if (k == pick) hits++;
            if (hits == 0) return 0;
            p *= (double)hits / candidates.Length;
            total += 1 + Slots(pick).Length;
            if (pick is SynthKind.And or SynthKind.Or) comps++;
        }
        foreach (var child in children)
        {
            if (child.Kind == SynthKind.NOrMore) p /= 6;
            p *= Probability(Slots(child.Kind), child.Children, depth + 1, total, comps, maxDepth, maxTotal);
            if (p == 0) return 0;
        }
        return p;
    }

    /// <summary>The English description: "lines " + the tree's phrase, cleaned up, with the strings filled in.</summary>
    public static string Describe(SynthNode top)
    {
        var raw = "lines " + Phrase(top, negated: false);
        foreach (var (from, to) in Rewrites) raw = raw.Replace(from, to, StringComparison.Ordinal);
        return FillWords(raw);
    }

    /// <summary>The regular expression of the tree, with the strings filled in.</summary>
    public static string Regex(SynthNode top) => FillWords(Pattern(top));

    /// <summary>
    /// True when the tree passes the corpus' filters: no construct but strings used twice, no construct
    /// more than four times, at most one modifier, no and/or at the top with a literal right under it, an
    /// "only" right under the top only below a "not", and none of the awkward phrases.
    /// </summary>
    public static bool IsWellFormed(SynthNode top, string description)
    {
        var flat = new List<SynthNode>();
        Flatten(top, flat);
        var counts = flat.GroupBy(n => n.Kind).ToDictionary(g => g.Key, g => g.Count());
        if (counts.Any(c => c.Key != SynthKind.Word && c.Value > 1)) return false;
        if (counts.Values.Max() > 4) return false;
        if (flat.Count(n => IsModifier(n.Kind)) > 1) return false;
        if (top.Kind is SynthKind.Or or SynthKind.And or SynthKind.Or3 or SynthKind.And3 && top.Children.Any(c => IsLiteral(c.Kind))) return false;
        if (top.Kind != SynthKind.Not && top.Children.Any(c => c.Kind == SynthKind.ContainsOnly)) return false;
        return !AwkwardPhrases.Any(p => description.Contains(p, StringComparison.Ordinal));
    }

    /// <summary>True when the tree has a three-way and/or (the corpus keeps only half of those).</summary>
    public static bool HasThreeWay(SynthNode node) =>
        node.Kind is SynthKind.And3 or SynthKind.Or3 || node.Children.Any(HasThreeWay);

    private static void Flatten(SynthNode node, List<SynthNode> into)
    {
        into.Add(node);
        foreach (var c in node.Children) Flatten(c, into);
    }

    private static string FillWords(string text)
    {
        var sb = new StringBuilder(text.Length);
        int word = 0, at = 0;
        while (true)
        {
            int i = text.IndexOf("WORD", at, StringComparison.Ordinal);
            if (i < 0 || word == Fillers.Length) break;
            sb.Append(text, at, i - at).Append(Fillers[word++]);
            at = i + 4;
        }
        return sb.Append(text, at, text.Length - at).ToString();
    }

    private static string Phrase(SynthNode n, bool negated)
    {
        bool under = negated || n.Kind == SynthKind.Not;
        string C(int i) => Phrase(n.Children[i], under);
        return n.Kind switch
        {
            SynthKind.Number => "a number",
            SynthKind.Capital => "a capital letter",
            SynthKind.Lower => "a lower-case letter",
            SynthKind.Letter => "a letter",
            SynthKind.Word => "the string 'WORD'",
            SynthKind.Character => "a character",
            SynthKind.Vowel => "a vowel",
            SynthKind.Contains => $"containing {C(0)}",
            SynthKind.ContainsOnly => $"containing only {C(0)}",
            SynthKind.StartsWith => $"starting with {C(0)}",
            SynthKind.EndsWith => $"ending with {C(0)}",
            SynthKind.Words => $"words with {C(0)}",
            SynthKind.FollowedBy => $"{C(0)} followed by {C(1)}",
            SynthKind.OneOrMore => $"{C(0)} at least once",
            SynthKind.NOrMore => $"{C(0)}, {n.Count} or more times",
            SynthKind.ZeroOrMore => $"{C(0)}, zero or more times",
            SynthKind.Before => $"{C(0)} before {C(1)}",
            SynthKind.Or => $"{C(0)} or {C(1)}",
            SynthKind.Not => $"not {C(0)}",
            SynthKind.And => negated ? $"{C(0)} and not {C(1)}" : $"{C(0)} and {C(1)}",
            SynthKind.And3 => negated ? $"{C(0)}, not {C(1)}, and not {C(2)}" : $"<and3> {C(0)}, {C(1)}, and {C(2)}",
            SynthKind.Or3 => negated ? $"{C(0)}, {C(1)}, or {C(2)}" : $"either {C(0)}, {C(1)}, or {C(2)}",
            _ => throw new InvalidOperationException($"Unknown construct {n.Kind}."),
        };
    }

    private static string Pattern(SynthNode n)
    {
        string C(int i) => Pattern(n.Children[i]);
        return n.Kind switch
        {
            SynthKind.Number => "[0-9]",
            SynthKind.Capital => "[A-Z]",
            SynthKind.Lower => "[a-z]",
            SynthKind.Letter => "[A-Za-z]",
            SynthKind.Word => "WORD",
            SynthKind.Character => ".",
            SynthKind.Vowel => "[AEIOUaeiou]",
            SynthKind.Contains => $".*{C(0)}.*",
            SynthKind.ContainsOnly => C(0),
            SynthKind.StartsWith => $"({C(0)})(.*)",
            SynthKind.EndsWith => $"(.*)({C(0)})",
            SynthKind.Words => $"\\b{C(0)}\\b",
            SynthKind.FollowedBy => $"{C(0)}.*{C(1)}.*",
            SynthKind.OneOrMore => $"({C(0)})+",
            SynthKind.NOrMore => $"({C(0)}){{{n.Count},}}",
            SynthKind.ZeroOrMore => $"({C(0)})*",
            SynthKind.Before => $"({C(0)}).*({C(1)}).*",
            SynthKind.Or => $"({C(0)})|({C(1)})",
            SynthKind.Not => $"~({C(0)})",
            SynthKind.And => $"({C(0)})&({C(1)})",
            SynthKind.And3 => $"({C(0)})&({C(1)})&({C(2)})",
            SynthKind.Or3 => $"({C(0)})|({C(1)})|({C(2)})",
            _ => throw new InvalidOperationException($"Unknown construct {n.Kind}."),
        };
    }
}
