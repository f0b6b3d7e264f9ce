using System.Text;

namespace Jepa.RegexTask;

/// <summary>
/// A node of the abstract syntax tree of an NL-RX regular expression (the dk.brics.automaton notation
/// the corpus is written in). Nodes are immutable. <see cref="ToString"/> prints the node back in the
/// dialect with the fewest parentheses the precedence rules allow, so that
/// <c>RegexParser.Parse(node.ToString())</c> rebuilds the same tree.
/// </summary>
/// <remarks>
/// Precedence, loosest first: union <c>|</c>, intersection <c>&amp;</c>, concatenation, postfix
/// repetition (<c>*</c> <c>+</c> <c>?</c> <c>{n}</c> <c>{n,}</c> <c>{n,m}</c>), prefix complement <c>~</c>.
/// </remarks>
public abstract class RegexNode
{
    private protected RegexNode() { }

    /// <summary>Binding strength used by the printer: higher binds tighter.</summary>
    internal abstract int Precedence { get; }

    internal const int UnionLevel = 0, IntersectLevel = 1, ConcatLevel = 2, RepeatLevel = 3, ComplementLevel = 4, AtomLevel = 5;

    internal abstract void Print(StringBuilder sb);

    /// <summary>The node in the dialect's notation.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Print(sb);
        return sb.ToString();
    }

    /// <summary>Every node of the tree, this one first (pre-order).</summary>
    public IEnumerable<RegexNode> Descendants()
    {
        var stack = new Stack<RegexNode>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            yield return node;
            var children = node.Children;
            for (int i = children.Count - 1; i >= 0; i--) stack.Push(children[i]);
        }
    }

    /// <summary>The direct sub-expressions of this node, left to right.</summary>
    public abstract IReadOnlyList<RegexNode> Children { get; }

    internal void PrintChild(StringBuilder sb, RegexNode child, int minLevel)
    {
        if (child.Precedence >= minLevel) child.Print(sb);
        else
        {
            sb.Append('(');
            child.Print(sb);
            sb.Append(')');
        }
    }

    /// <summary>The character as a literal of the dialect, with a backslash before operator characters.</summary>
    internal static string EscapeLiteral(char c) =>
        c is '|' or '&' or '~' or '(' or ')' or '[' or ']' or '{' or '}' or '*' or '+' or '?' or '.' or '\\'
            ? "\\" + c
            : c.ToString();
}

/// <summary>One character from a set: a literal character, a bracket class such as <c>[A-Z]</c>, or <c>.</c>.</summary>
public sealed class CharSetNode(CharSet set) : RegexNode
{
    /// <summary>The characters this node accepts (exactly one of them is consumed).</summary>
    public CharSet Set { get; } = set;

    /// <inheritdoc/>
    public override IReadOnlyList<RegexNode> Children => [];

    internal override int Precedence => AtomLevel;

    internal override void Print(StringBuilder sb) => sb.Append(Set.ToString());
}

/// <summary>The empty string, written <c>()</c>.</summary>
public sealed class EmptyStringNode : RegexNode
{
    /// <summary>The single instance.</summary>
    public static EmptyStringNode Instance { get; } = new();

    private EmptyStringNode() { }

    /// <inheritdoc/>
    public override IReadOnlyList<RegexNode> Children => [];

    internal override int Precedence => AtomLevel;

    internal override void Print(StringBuilder sb) => sb.Append("()");
}

/// <summary>
/// A word boundary <c>\b</c>. Its meaning in the automaton is chosen by
/// <see cref="RegexEquivalenceOptions.WordBoundary"/> (by default, the empty string).
/// </summary>
public sealed class WordBoundaryNode : RegexNode
{
    /// <summary>The single instance.</summary>
    public static WordBoundaryNode Instance { get; } = new();

    private WordBoundaryNode() { }

    /// <inheritdoc/>
    public override IReadOnlyList<RegexNode> Children => [];

    internal override int Precedence => AtomLevel;

    internal override void Print(StringBuilder sb) => sb.Append("\\b");
}

/// <summary>A sequence of two or more sub-expressions matched one after another.</summary>
public sealed class ConcatNode : RegexNode
{
    /// <summary>Concatenation of <paramref name="items"/> (at least two).</summary>
    public ConcatNode(IReadOnlyList<RegexNode> items)
    {
        if (items.Count < 2) throw new ArgumentException("A concatenation needs at least two items.", nameof(items));
        Items = [.. items];
    }

    /// <summary>The parts, left to right.</summary>
    public IReadOnlyList<RegexNode> Items { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<RegexNode> Children => Items;

    internal override int Precedence => ConcatLevel;

    internal override void Print(StringBuilder sb)
    {
        // A nested concatenation needs parentheses only to keep the tree shape on a round trip.
        foreach (var item in Items) PrintChild(sb, item, item is ConcatNode ? AtomLevel : RepeatLevel);
    }
}

/// <summary>Union <c>a|b|…</c>: a string matches when any alternative matches it.</summary>
public sealed class UnionNode : RegexNode
{
    /// <summary>Union of <paramref name="alternatives"/> (at least two).</summary>
    public UnionNode(IReadOnlyList<RegexNode> alternatives)
    {
        if (alternatives.Count < 2) throw new ArgumentException("A union needs at least two alternatives.", nameof(alternatives));
        Alternatives = [.. alternatives];
    }

    /// <summary>The alternatives, left to right.</summary>
    public IReadOnlyList<RegexNode> Alternatives { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<RegexNode> Children => Alternatives;

    internal override int Precedence => UnionLevel;

    internal override void Print(StringBuilder sb)
    {
        for (int i = 0; i < Alternatives.Count; i++)
        {
            if (i > 0) sb.Append('|');
            var a = Alternatives[i];
            PrintChild(sb, a, a is UnionNode ? AtomLevel : IntersectLevel);
        }
    }
}

/// <summary>Intersection <c>a&amp;b&amp;…</c>: a string matches when every operand matches it.</summary>
public sealed class IntersectNode : RegexNode
{
    /// <summary>Intersection of <paramref name="operands"/> (at least two).</summary>
    public IntersectNode(IReadOnlyList<RegexNode> operands)
    {
        if (operands.Count < 2) throw new ArgumentException("An intersection needs at least two operands.", nameof(operands));
        Operands = [.. operands];
    }

    /// <summary>The operands, left to right.</summary>
    public IReadOnlyList<RegexNode> Operands { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<RegexNode> Children => Operands;

    internal override int Precedence => IntersectLevel;

    internal override void Print(StringBuilder sb)
    {
        for (int i = 0; i < Operands.Count; i++)
        {
            if (i > 0) sb.Append('&');
            var a = Operands[i];
            PrintChild(sb, a, a is IntersectNode ? AtomLevel : ConcatLevel);
        }
    }
}

/// <summary>Complement <c>~a</c>: every string (over all characters) that <c>a</c> does not match.</summary>
public sealed class ComplementNode(RegexNode operand) : RegexNode
{
    /// <summary>The complemented expression.</summary>
    public RegexNode Operand { get; } = operand;

    /// <inheritdoc/>
    public override IReadOnlyList<RegexNode> Children => [Operand];

    internal override int Precedence => ComplementLevel;

    internal override void Print(StringBuilder sb)
    {
        sb.Append('~');
        PrintChild(sb, Operand, ComplementLevel);
    }
}

/// <summary>
/// Repetition of <see cref="Operand"/> between <see cref="Min"/> and <see cref="Max"/> times
/// (<c>*</c> is 0..∞, <c>+</c> 1..∞, <c>?</c> 0..1, <c>{n}</c>, <c>{n,}</c>, <c>{n,m}</c>).
/// </summary>
public sealed class RepeatNode : RegexNode
{
    /// <summary>Repetition of <paramref name="operand"/>, <paramref name="min"/> to <paramref name="max"/> times (null: unbounded).</summary>
    public RepeatNode(RegexNode operand, int min, int? max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        if (max is int m && m < min) throw new ArgumentOutOfRangeException(nameof(max), max, $"Maximum below minimum {min}.");
        Operand = operand;
        Min = min;
        Max = max;
    }

    /// <summary>The repeated expression.</summary>
    public RegexNode Operand { get; }

    /// <summary>Fewest repetitions.</summary>
    public int Min { get; }

    /// <summary>Most repetitions, or null when unbounded.</summary>
    public int? Max { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<RegexNode> Children => [Operand];

    internal override int Precedence => RepeatLevel;

    internal override void Print(StringBuilder sb)
    {
        PrintChild(sb, Operand, ComplementLevel);
        sb.Append((Min, Max) switch
        {
            (0, null) => "*",
            (1, null) => "+",
            (0, 1) => "?",
            (var n, null) => $"{{{n},}}",
            (var n, int m) when m == n => $"{{{n}}}",
            (var n, int m) => $"{{{n},{m}}}",
        });
    }
}
