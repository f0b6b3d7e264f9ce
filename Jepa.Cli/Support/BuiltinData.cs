using Jepa.Training.Data;
using Jepa.RegexTask;

namespace Jepa.Cli.Support;

/// <summary>
/// The built-in task: NL-RX-style (description, regex) pairs from <see cref="RegexPairGenerator"/>. Training
/// pairs come from seed 1, held-out pairs from seed 2 with every pair whose description also occurs in the
/// training pairs removed. The system prompt is left out to keep the sequences short for small models.
/// </summary>
public static class BuiltinData
{
    /// <summary>Seed of the training pairs.</summary>
    public const ulong TrainSeed = 1;

    /// <summary>Seed of the held-out pairs.</summary>
    public const ulong TestSeed = 2;

    /// <summary>The first <paramref name="count"/> training pairs.</summary>
    public static IReadOnlyList<PairExample> Train(int count) =>
        RegexPairGenerator.Generate(count, TrainSeed).Select(p => new PairExample(null, p.Text, p.Code)).ToArray();

    /// <summary>
    /// <paramref name="count"/> held-out pairs whose descriptions do not occur in <paramref name="train"/>
    /// (generated further along seed 2 until there are enough; descriptions repeated within the test set are kept once).
    /// </summary>
    public static IReadOnlyList<PairExample> Test(int count, IReadOnlyList<PairExample> train)
    {
        var seen = new HashSet<string>(train.Select(e => e.Text), StringComparer.Ordinal);
        var list = new List<PairExample>(count);
        for (long i = 0; list.Count < count; i++)
        {
            if (i > 100L * count + 10_000) throw new InvalidOperationException("Could not find enough held-out regex pairs.");
            var p = RegexPairGenerator.Example(TestSeed, i);
            if (seen.Add(p.Text)) list.Add(new PairExample(null, p.Text, p.Code));
        }
        return list;
    }
}
