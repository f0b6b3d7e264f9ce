using System.Numerics;

namespace Jepa.Training.Model;

/// <summary>
/// OpenELM's layer-wise scaling (Mehta et al., 2024), in the terms of its <c>config.json</c>: layer l's query heads come from
/// <c>qkv_multipliers</c>, its key/value heads from those and <c>num_gqa_groups</c>, and its gated feed-forward width from
/// <c>ffn_multipliers</c> and <c>ffn_dim_divisor</c>, computed as OpenELM's <c>OpenELMConfig</c> does (NumPy's linspace, Python's
/// round to 2 decimals, <c>make_divisible</c>), so a folder's shapes come out exactly. Kept as the config states it, so a saved
/// model writes the same keys back. Equal when the numbers are (record equality would compare the arrays by reference).
/// </summary>
/// <param name="QkvMultipliers">One number (every layer alike) or two (the first and last layer's, spaced linearly between).</param>
/// <param name="FfnMultipliers">One number, two (first and last, linearly between), or one per layer.</param>
/// <param name="GqaGroups">Query heads per key/value head (<c>num_gqa_groups</c>).</param>
/// <param name="FfnDivisor">The feed-forward width is a multiple of this (<c>ffn_dim_divisor</c>).</param>
public sealed record LayerScaling(double[] QkvMultipliers, double[] FfnMultipliers, int GqaGroups, int FfnDivisor)
{
    /// <summary>Query heads of each of <paramref name="layers"/> layers of width <paramref name="dModel"/> and head width
    /// <paramref name="headDim"/>: make_divisible(dModel·m, headDim·groups) / headDim.</summary>
    public int[] QueryHeads(int layers, int dModel, int headDim) =>
        [.. PerLayer(QkvMultipliers, layers).Select(m => MakeDivisible(dModel * m, headDim * GqaGroups) / headDim)];

    /// <summary>Key/value heads of each layer: its query heads / <see cref="GqaGroups"/>.</summary>
    public int[] KvHeads(int layers, int dModel, int headDim) => [.. QueryHeads(layers, dModel, headDim).Select(h => h / GqaGroups)];

    /// <summary>Feed-forward width of each layer: make_divisible(m·dModel, <see cref="FfnDivisor"/>).</summary>
    public int[] Ffn(int layers, int dModel) =>
        [.. PerLayer(FfnMultipliers, layers).Select(m => MakeDivisible(m * dModel, FfnDivisor))];

    /// <summary>Throws <see cref="ArgumentException"/> naming what does not fit a model of <paramref name="layers"/> layers.</summary>
    public void Validate(int layers, int dModel, int headDim)
    {
        if (QkvMultipliers is not { Length: 1 or 2 })
            throw new ArgumentException($"Model config: {nameof(QkvMultipliers)} must be one number or two (first and last layer), got {QkvMultipliers?.Length ?? 0}.", nameof(QkvMultipliers));
        if (FfnMultipliers is null || !(FfnMultipliers.Length is 1 or 2 || FfnMultipliers.Length == layers))
            throw new ArgumentException($"Model config: {nameof(FfnMultipliers)} must be one number, two, or one per layer ({layers}), got {FfnMultipliers?.Length ?? 0}.", nameof(FfnMultipliers));
        foreach (double m in QkvMultipliers.Concat(FfnMultipliers))
            if (!(m > 0) || !double.IsFinite(m)) throw new ArgumentException($"Model config: layer-scaling multipliers must be positive and finite, got {m}.", nameof(QkvMultipliers));
        if (GqaGroups <= 0) throw new ArgumentException($"Model config: {nameof(GqaGroups)} must be positive, got {GqaGroups}.", nameof(GqaGroups));
        if (FfnDivisor <= 0) throw new ArgumentException($"Model config: {nameof(FfnDivisor)} must be positive, got {FfnDivisor}.", nameof(FfnDivisor));
    }

    /// <summary>The multiplier of each layer: one number for all; two as NumPy's <c>linspace(a, b, layers)</c> rounded to 2
    /// decimals; otherwise one per layer.</summary>
    private static double[] PerLayer(double[] m, int layers)
    {
        if (m.Length == 1) return Enumerable.Repeat(m[0], layers).ToArray();
        if (m.Length != 2) return m;
        if (layers == 1) return [Round2(m[0])];
        // numpy.linspace: start + i·step with step = (stop − start) / (n − 1), the last point set to stop exactly
        double step = (m[1] - m[0]) / (layers - 1);
        return [.. Enumerable.Range(0, layers).Select(i => Round2(i == layers - 1 ? m[1] : i * step + m[0]))];
    }

    /// <summary>OpenELM's (TensorFlow's) make_divisible: v rounded to the nearest multiple of <paramref name="divisor"/>, at least
    /// the divisor, and one divisor more when rounding went down by over 10 %.</summary>
    public static int MakeDivisible(double v, int divisor)
    {
        long rounded = Math.Max(divisor, (long)(v + divisor / 2.0) / divisor * divisor);
        if (rounded < 0.9 * v) rounded += divisor;
        return checked((int)rounded);
    }

    /// <summary>Python's <c>round(x, 2)</c>: the exact binary value rounded to 2 decimals, ties to even, then the nearest double.</summary>
    public static double Round2(double x)
    {
        if (x < 0) return -Round2(-x);
        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0x7FF || x == 0) return x;
        if (exponent == 0) exponent = 1; else mantissa |= 1L << 52;
        int e = exponent - 1075; // x = mantissa · 2^e exactly
        if (e >= 0) return x;    // an integer already
        BigInteger scaled = new BigInteger(mantissa) * 100, unit = BigInteger.One << -e;
        var q = BigInteger.DivRem(scaled, unit, out var r);
        int half = (r * 2).CompareTo(unit);
        if (half > 0 || (half == 0 && !q.IsEven)) q += 1;
        return (double)q / 100.0;
    }

    /// <inheritdoc />
    public bool Equals(LayerScaling? other) =>
        other is not null && QkvMultipliers.AsSpan().SequenceEqual(other.QkvMultipliers) && FfnMultipliers.AsSpan().SequenceEqual(other.FfnMultipliers) &&
        GqaGroups == other.GqaGroups && FfnDivisor == other.FfnDivisor;

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (double v in QkvMultipliers) h.Add(v);
        foreach (double v in FfnMultipliers) h.Add(v);
        h.Add(GqaGroups);
        h.Add(FfnDivisor);
        return h.ToHashCode();
    }
}
