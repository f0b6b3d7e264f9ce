using Jepa.Core;

namespace Jepa.Training.Training;

/// <summary>
/// The order examples are visited in: a Fisher–Yates shuffle per epoch drawn from the counter-based RNG,
/// so the order of epoch e depends on (seed, e) alone and a resumed run visits the same examples.
/// </summary>
public static class DataOrder
{
    private const ulong Stream = 0x5348_5546_0000_0000UL; // "SHUF"

    /// <summary>The permutation of <paramref name="count"/> examples for epoch <paramref name="epoch"/>.</summary>
    public static int[] Permutation(int count, ulong seed, int epoch)
    {
        var p = new int[count];
        for (int i = 0; i < count; i++) p[i] = i;
        for (int i = count - 1; i > 0; i--)
        {
            int j = Philox.NextInt(seed, Stream + (ulong)epoch, (ulong)i, i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    /// <summary>Whether JEPA-loss dropout skips the JEPA term in micro-batch <paramref name="micro"/> of 1-based step
    /// <paramref name="step"/>. As in the paper's code, each micro-batch (each loss computation) draws on its own; micro-batch 0
    /// of a step draws what the whole step drew before micro-batches drew separately.</summary>
    public static bool DropJepa(ulong seed, int step, float rate, int micro = 0) =>
        rate > 0 && (rate >= 1 || Philox.Uniform(seed, 0x4452_4F50UL /* "DROP" */ + ((ulong)(uint)micro << 32), (ulong)step) < rate);
}
