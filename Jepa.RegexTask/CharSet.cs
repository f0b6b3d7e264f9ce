using System.Text;

namespace Jepa.RegexTask;

/// <summary>
/// An immutable set of UTF-16 code units, held as sorted, disjoint, non-adjacent inclusive ranges.
/// The NL-RX dialect uses a handful of named sets (<see cref="Digits"/>, <see cref="Upper"/>,
/// <see cref="Lower"/>, <see cref="Letters"/>, <see cref="Vowels"/>, <see cref="Any"/>) and single
/// characters; arbitrary bracket classes such as <c>[a-f0-3]</c> are supported too.
/// </summary>
public sealed class CharSet : IEquatable<CharSet>
{
    private readonly (char Lo, char Hi)[] ranges;

    private CharSet((char Lo, char Hi)[] normalizedRanges) => ranges = normalizedRanges;

    /// <summary>The empty set.</summary>
    public static CharSet Empty { get; } = new([]);

    /// <summary>Every UTF-16 code unit: the set <c>.</c> denotes.</summary>
    public static CharSet Any { get; } = new([(char.MinValue, char.MaxValue)]);

    /// <summary><c>[0-9]</c>.</summary>
    public static CharSet Digits { get; } = new([('0', '9')]);

    /// <summary><c>[A-Z]</c>.</summary>
    public static CharSet Upper { get; } = new([('A', 'Z')]);

    /// <summary><c>[a-z]</c>.</summary>
    public static CharSet Lower { get; } = new([('a', 'z')]);

    /// <summary><c>[A-Za-z]</c>.</summary>
    public static CharSet Letters { get; } = new([('A', 'Z'), ('a', 'z')]);

    /// <summary><c>[AEIOUaeiou]</c>.</summary>
    public static CharSet Vowels { get; } = FromRanges("AEIOUaeiou".Select(c => (c, c)));

    /// <summary>The set holding exactly <paramref name="c"/>.</summary>
    public static CharSet Single(char c) => new([(c, c)]);

    /// <summary>The set of the given inclusive ranges (in any order, possibly overlapping).</summary>
    /// <exception cref="ArgumentException">A range has its low end above its high end.</exception>
    public static CharSet FromRanges(IEnumerable<(char Lo, char Hi)> ranges)
    {
        var list = new List<(char Lo, char Hi)>();
        foreach (var r in ranges)
        {
            if (r.Lo > r.Hi) throw new ArgumentException($"Character range '{r.Lo}'-'{r.Hi}' is reversed.", nameof(ranges));
            list.Add(r);
        }
        return new CharSet(Normalize(list));
    }

    /// <summary>The sorted, disjoint, non-adjacent inclusive ranges of the set.</summary>
    public IReadOnlyList<(char Lo, char Hi)> Ranges => ranges;

    /// <summary>True when the set holds no character.</summary>
    public bool IsEmpty => ranges.Length == 0;

    /// <summary>Number of characters in the set.</summary>
    public int Count
    {
        get
        {
            int n = 0;
            foreach (var (lo, hi) in ranges) n += hi - lo + 1;
            return n;
        }
    }

    /// <summary>True when <paramref name="c"/> is in the set (binary search over the ranges).</summary>
    public bool Contains(char c)
    {
        int lo = 0, hi = ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (c < ranges[mid].Lo) hi = mid - 1;
            else if (c > ranges[mid].Hi) lo = mid + 1;
            else return true;
        }
        return false;
    }

    /// <summary>Every character in either set.</summary>
    public CharSet Union(CharSet other) => new(Normalize([.. ranges, .. other.ranges]));

    /// <summary>Every character not in this set.</summary>
    public CharSet Complement()
    {
        var result = new List<(char, char)>();
        int next = char.MinValue;
        foreach (var (lo, hi) in ranges)
        {
            if (lo > next) result.Add(((char)next, (char)(lo - 1)));
            next = hi + 1;
        }
        if (next <= char.MaxValue) result.Add(((char)next, char.MaxValue));
        return new CharSet([.. result]);
    }

    /// <inheritdoc/>
    public bool Equals(CharSet? other) => other is not null && ranges.AsSpan().SequenceEqual(other.ranges);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as CharSet);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var (lo, hi) in ranges) { h.Add(lo); h.Add(hi); }
        return h.ToHashCode();
    }

    /// <summary>
    /// The set in the dialect's notation: <c>.</c> for <see cref="Any"/>, the bare (escaped if special)
    /// character for a single character, otherwise a bracket class such as <c>[A-Za-z]</c>.
    /// </summary>
    public override string ToString()
    {
        if (Equals(Any)) return ".";
        if (ranges.Length == 1 && ranges[0].Lo == ranges[0].Hi) return RegexNode.EscapeLiteral(ranges[0].Lo);
        var sb = new StringBuilder("[");
        if (IsEmpty || (ranges[0].Lo == char.MinValue && ranges[^1].Hi == char.MaxValue && Count > char.MaxValue / 2))
        {
            // Mostly-everything sets read better negated; the empty set is [^\u0000-\uffff].
            sb.Append('^');
            foreach (var (lo, hi) in Complement().ranges) AppendRange(sb, lo, hi);
        }
        else
        {
            foreach (var (lo, hi) in ranges) AppendRange(sb, lo, hi);
        }
        return sb.Append(']').ToString();
    }

    private static void AppendRange(StringBuilder sb, char lo, char hi)
    {
        AppendClassChar(sb, lo);
        if (hi == lo) return;
        if (hi > lo + 1) sb.Append('-');
        AppendClassChar(sb, hi);
    }

    private static void AppendClassChar(StringBuilder sb, char c)
    {
        if (c is ']' or '[' or '\\' or '^' or '-') sb.Append('\\');
        sb.Append(c);
    }

    private static (char Lo, char Hi)[] Normalize(List<(char Lo, char Hi)> list)
    {
        list.Sort((a, b) => a.Lo.CompareTo(b.Lo));
        var result = new List<(char Lo, char Hi)>(list.Count);
        foreach (var r in list)
        {
            if (result.Count > 0 && r.Lo <= result[^1].Hi + 1)
            {
                var last = result[^1];
                if (r.Hi > last.Hi) result[^1] = (last.Lo, r.Hi);
            }
            else result.Add(r);
        }
        return [.. result];
    }
}
