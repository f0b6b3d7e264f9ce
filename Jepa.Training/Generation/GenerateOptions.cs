namespace Jepa.Training.Generation;

/// <summary>How to decode.</summary>
/// <param name="MaxNewTokens">Most tokens to generate.</param>
/// <param name="Temperature">0 decodes greedily; above 0 samples from softmax(logits / T).</param>
/// <param name="TopP">Nucleus sampling: sample among the most likely tokens whose probabilities add up to at least this.</param>
/// <param name="Seed">Seed of the sampler (counter-based: token i uses index i).</param>
public sealed record GenerateOptions(int MaxNewTokens = 64, float Temperature = 0f, float TopP = 1f, ulong Seed = 0)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public GenerateOptions Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentException($"max-new-tokens must be positive, got {MaxNewTokens}.", nameof(MaxNewTokens));
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) throw new ArgumentException($"temperature must be ≥ 0, got {Temperature}.", nameof(Temperature));
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top-p must be in (0, 1], got {TopP}.", nameof(TopP));
        return this;
    }
}
