using Jepa.Core;

namespace Jepa.Training.Model;

/// <summary>Per-layer key and value caches [B, MaxLength, Hkv, D] for generation, and how many positions are filled.</summary>
public sealed class KvCache : IDisposable
{
    /// <summary>Allocates caches for <paramref name="batch"/> sequences of up to <paramref name="maxLength"/> tokens.</summary>
    public KvCache(Device device, ModelConfig config, int batch, int maxLength)
    {
        if (maxLength > config.MaxLength) throw new ArgumentException($"Cache length {maxLength} exceeds the model's maximum length {config.MaxLength}.");
        B = batch;
        MaxLength = maxLength;
        int kv = config.KvHeads * config.HeadDim;
        Keys = Enumerable.Range(0, config.Layers).Select(_ => Tensor.Zeros(device, batch, maxLength, kv)).ToArray();
        Values = Enumerable.Range(0, config.Layers).Select(_ => Tensor.Zeros(device, batch, maxLength, kv)).ToArray();
    }

    /// <summary>Sequences in the cache.</summary>
    public int B { get; }

    /// <summary>Capacity in positions.</summary>
    public int MaxLength { get; }

    /// <summary>Positions filled so far (the next token's position).</summary>
    public int Length { get; internal set; }

    /// <summary>Keys per layer.</summary>
    public IReadOnlyList<Tensor> Keys { get; }

    /// <summary>Values per layer.</summary>
    public IReadOnlyList<Tensor> Values { get; }

    /// <summary>Frees the caches.</summary>
    public void Dispose()
    {
        foreach (var t in Keys) t.Dispose();
        foreach (var t in Values) t.Dispose();
    }
}
