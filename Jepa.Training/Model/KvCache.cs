using ILGPU.Runtime;
using Jepa.Core;
using Device = Jepa.Core.Device;

namespace Jepa.Training.Model;

/// <summary>Per-layer key and value caches [B, MaxLength, Hkv, D] for generation, and how many positions are filled.</summary>
public sealed class KvCache : IDisposable
{
    private readonly Device _device;

    /// <summary>Allocates caches for <paramref name="batch"/> sequences of up to <paramref name="maxLength"/> tokens.</summary>
    public KvCache(Device device, ModelConfig config, int batch, int maxLength)
    {
        if (maxLength > config.MaxLength) throw new ArgumentException($"Cache length {maxLength} exceeds the model's maximum length {config.MaxLength}.");
        _device = device;
        B = batch;
        MaxLength = maxLength;
        // each layer's width: OpenELM's layers differ in key/value heads
        Keys = Enumerable.Range(0, config.Layers).Select(l => Tensor.Zeros(device, batch, maxLength, config.KvHeadsOf(l) * config.HeadDim)).ToArray();
        Values = Enumerable.Range(0, config.Layers).Select(l => Tensor.Zeros(device, batch, maxLength, config.KvHeadsOf(l) * config.HeadDim)).ToArray();
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

    /// <summary>
    /// Copies positions [0, <paramref name="length"/>) of sequence <paramref name="sourceRow"/> of <paramref name="source"/>
    /// into sequence <paramref name="row"/> of this cache, keys and values of every layer (a plain copy: the values are
    /// unchanged). <see cref="Length"/> is left as it is.
    /// </summary>
    /// <exception cref="ArgumentException">The caches differ in layers or width, or a row or the length is out of range.</exception>
    public void CopyRow(KvCache source, int sourceRow, int row, int length)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Keys.Count != Keys.Count || Enumerable.Range(0, Keys.Count).Any(l => source.Width(l) != Width(l)))
            throw new ArgumentException($"Cannot copy between caches of {source.Keys.Count} layers × {source.Width(0)} and {Keys.Count} layers × {Width(0)} (or of other layer widths).", nameof(source));
        if ((uint)sourceRow >= (uint)source.B || (uint)row >= (uint)B)
            throw new ArgumentOutOfRangeException(nameof(row), $"Rows {sourceRow} → {row} are outside caches of {source.B} and {B} sequences.");
        if (length < 0 || length > source.MaxLength || length > MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Cannot copy {length} positions between caches of {source.MaxLength} and {MaxLength}.");
        if (length == 0) return;
        var stream = _device.Accelerator.DefaultStream;
        for (int l = 0; l < Keys.Count; l++)
        {
            long n = (long)length * Width(l), from = (long)sourceRow * source.MaxLength * Width(l), to = (long)row * MaxLength * Width(l);
            source.Keys[l].View.SubView(from, n).CopyTo(stream, Keys[l].View.SubView(to, n));
            source.Values[l].View.SubView(from, n).CopyTo(stream, Values[l].View.SubView(to, n));
        }
    }

    /// <summary>Floats per position of layer <paramref name="layer"/>'s keys (or values): its KV heads × head size.</summary>
    private int Width(int layer) => Keys[layer].Dim(-1);

    /// <summary>Frees the caches.</summary>
    public void Dispose()
    {
        foreach (var t in Keys) t.Dispose();
        foreach (var t in Values) t.Dispose();
    }
}
