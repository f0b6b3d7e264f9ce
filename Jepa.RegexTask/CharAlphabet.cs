namespace Jepa.RegexTask;

/// <summary>
/// A finite alphabet of character classes ("atoms") that is exact for a given family of character sets:
/// the atoms are the coarsest partition of all UTF-16 code units such that every set of the family is a
/// union of atoms. Two characters in one atom are accepted by exactly the same sets, so an automaton over
/// atoms accepts a string of atoms exactly when the original automaton accepts every (equivalently, any)
/// character string that spells it; language equality over atoms is language equality over characters.
/// The characters outside every set ("any other character") form one atom of their own when they exist.
/// </summary>
internal sealed class CharAlphabet
{
    private readonly char[] starts;  // elementary interval i covers [starts[i], starts[i+1] - 1]
    private readonly int[] atomOf;   // atom of elementary interval i

    /// <summary>Number of atoms (symbols).</summary>
    public int Size { get; }

    /// <summary>For each atom, a readable member (printable ASCII when the atom has one) to spell witnesses.</summary>
    public IReadOnlyList<char> Representatives { get; }

    public CharAlphabet(IEnumerable<CharSet> sets)
    {
        var family = sets.Distinct().ToList();
        // Boundaries where membership in some set can change.
        var cuts = new SortedSet<int> { 0 };
        foreach (var set in family)
            foreach (var (lo, hi) in set.Ranges)
            {
                cuts.Add(lo);
                if (hi < char.MaxValue) cuts.Add(hi + 1);
            }
        starts = [.. cuts.Select(c => (char)c)];
        atomOf = new int[starts.Length];
        var signatureToAtom = new Dictionary<string, int>();
        var reps = new List<char>();
        for (int i = 0; i < starts.Length; i++)
        {
            char c = starts[i];
            string signature = new([.. family.Select(s => s.Contains(c) ? '1' : '0')]);
            if (!signatureToAtom.TryGetValue(signature, out int atom))
            {
                atom = signatureToAtom.Count;
                signatureToAtom.Add(signature, atom);
                reps.Add(c);
            }
            atomOf[i] = atom;
            // Prefer a printable ASCII representative.
            int end = i + 1 < starts.Length ? starts[i + 1] - 1 : char.MaxValue;
            if (reps[atom] is < ' ' or > '~')
            {
                int printable = Math.Max(c, ' ');
                if (printable <= Math.Min(end, '~')) reps[atom] = (char)printable;
            }
        }
        Size = signatureToAtom.Count;
        Representatives = reps;
    }

    /// <summary>The atom holding <paramref name="c"/>.</summary>
    public int AtomOf(char c)
    {
        int lo = 0, hi = starts.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (starts[mid] <= c) lo = mid;
            else hi = mid - 1;
        }
        return atomOf[lo];
    }

    /// <summary>The atoms <paramref name="set"/> is the union of (the set must belong to the family or be a union of its atoms).</summary>
    public bool[] AtomsOf(CharSet set)
    {
        var result = new bool[Size];
        for (int i = 0; i < starts.Length; i++)
            if (set.Contains(starts[i])) result[atomOf[i]] = true;
        return result;
    }
}
