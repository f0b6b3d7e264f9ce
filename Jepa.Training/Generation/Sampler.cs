using Jepa.Core;

namespace Jepa.Training.Generation;

/// <summary>Picks the next token from a row of logits: greedy, or temperature with nucleus (top-p) sampling.</summary>
public static class Sampler
{
    private const ulong Stream = 0x5341_4D50UL; // "SAMP"

    /// <summary>The next token for decoding step <paramref name="index"/>.</summary>
    /// <exception cref="InvalidDataException">A logit is NaN or infinite: the model's weights overflow, so no token can be chosen.</exception>
    public static int Next(ReadOnlySpan<float> logits, GenerateOptions o, int index)
    {
        if (NonFinite.IndexIn(logits) is int bad and >= 0)
            throw new InvalidDataException($"the model's logit for token {bad} is {logits[bad]} at decoding step {index}: its weights overflow (a diverged run?), so it cannot generate.");
        if (o.Temperature == 0f) return ArgMax(logits);
        int v = logits.Length;
        float max = float.NegativeInfinity;
        foreach (float x in logits) max = MathF.Max(max, x);
        var probs = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++) sum += probs[i] = Math.Exp((logits[i] - max) / o.Temperature);
        var order = Enumerable.Range(0, v).OrderByDescending(i => probs[i]).ThenBy(i => i).ToArray();
        double keep = 0;
        int n = 0;
        while (n < v && keep < o.TopP * sum) keep += probs[order[n++]];
        double u = Philox.Uniform(o.Seed, Stream, (ulong)index) * keep, acc = 0;
        for (int i = 0; i < n; i++)
        {
            acc += probs[order[i]];
            if (u < acc) return order[i];
        }
        return order[n - 1];
    }

    /// <summary>The index of the largest logit (the first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
