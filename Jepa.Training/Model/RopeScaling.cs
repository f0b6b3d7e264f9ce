using Jepa.Kernels;

namespace Jepa.Training.Model;

/// <summary>
/// Rescaled rotary frequencies, as Hugging Face's <c>rope_scaling</c> describes them: <c>"llama3"</c> (Llama 3.1+:
/// long wavelengths divided by <see cref="Factor"/>, short ones kept, a smooth blend between) or <c>"linear"</c>
/// (every frequency divided by <see cref="Factor"/>, i.e. positions interpolated).
/// </summary>
/// <param name="Type">"llama3" or "linear".</param>
/// <param name="Factor">Scaling factor (&gt; 0).</param>
/// <param name="LowFreqFactor">Llama 3: wavelengths above original/low are fully scaled.</param>
/// <param name="HighFreqFactor">Llama 3: wavelengths below original/high are kept.</param>
/// <param name="OriginalMaxPositions">Llama 3: the pre-training context length.</param>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4, int OriginalMaxPositions = 8192)
{
    /// <summary>The supported <see cref="Type"/> values.</summary>
    public static IReadOnlyList<string> Types { get; } = ["llama3", "linear"];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public RopeScaling Validate()
    {
        if (!Types.Contains(Type))
            throw new ArgumentException($"RoPE scaling type '{Type}' is not supported (supported: {string.Join(", ", Types)}).", nameof(Type));
        if (!(Factor > 0) || double.IsInfinity(Factor)) throw new ArgumentException($"RoPE scaling: factor must be positive, got {Factor}.", nameof(Factor));
        if (Type == "llama3")
        {
            if (!(LowFreqFactor > 0) || !(HighFreqFactor > LowFreqFactor))
                throw new ArgumentException($"RoPE scaling llama3: need 0 < low_freq_factor < high_freq_factor, got {LowFreqFactor} and {HighFreqFactor}.", nameof(HighFreqFactor));
            if (OriginalMaxPositions <= 0)
                throw new ArgumentException($"RoPE scaling llama3: original_max_position_embeddings must be positive, got {OriginalMaxPositions}.", nameof(OriginalMaxPositions));
        }
        return this;
    }

    /// <summary>The rescaled inverse frequencies for head size <paramref name="headDim"/> and base <paramref name="theta"/>.</summary>
    public double[] InverseFrequencies(int headDim, double theta)
    {
        var f = RopeTable.InverseFrequencies(headDim, theta);
        if (Type == "linear")
        {
            for (int i = 0; i < f.Length; i++) f[i] /= Factor;
            return f;
        }
        double lowWavelength = OriginalMaxPositions / LowFreqFactor, highWavelength = OriginalMaxPositions / HighFreqFactor;
        for (int i = 0; i < f.Length; i++)
        {
            double wavelength = 2 * Math.PI / f[i];
            if (wavelength > lowWavelength) f[i] /= Factor;
            else if (wavelength >= highWavelength)
            {
                double smooth = (OriginalMaxPositions / wavelength - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
                f[i] = (1 - smooth) * f[i] / Factor + smooth * f[i];
            }
        }
        return f;
    }
}
