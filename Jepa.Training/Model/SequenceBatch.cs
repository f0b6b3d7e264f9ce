using Jepa.Core;

namespace Jepa.Training.Model;

/// <summary>
/// A batch of B token sequences of length T on the device: token ids, RoPE positions and, for packed
/// sequences, per-token segment ids (attention is then block-causal: a token sees only earlier tokens of
/// its own segment). Host copies are kept for index building. Dispose returns the buffers to the pool.
/// </summary>
public sealed class SequenceBatch : IDisposable
{
    /// <summary>Uploads a batch. <paramref name="positions"/> defaults to 0..T−1 in every row.</summary>
    /// <exception cref="ArgumentException">An array's length is not B·T, or a token id is outside the vocabulary.</exception>
    public SequenceBatch(Device device, int batch, int length, int[] tokens, int vocabSize, int[]? positions = null, int[]? segments = null)
    {
        int n = checked(batch * length);
        if (batch <= 0 || length <= 0) throw new ArgumentException($"Batch needs positive B and T, got B={batch}, T={length}.");
        if (tokens.Length != n) throw new ArgumentException($"Batch B={batch} × T={length} needs {n} token ids, got {tokens.Length}.", nameof(tokens));
        for (int i = 0; i < n; i++)
            if ((uint)tokens[i] >= (uint)vocabSize)
                throw new ArgumentException($"Token id {tokens[i]} at row {i / length}, position {i % length} is outside the vocabulary of {vocabSize}.", nameof(tokens));
        if (positions is null)
        {
            positions = new int[n];
            for (int i = 0; i < n; i++) positions[i] = i % length;
        }
        else if (positions.Length != n) throw new ArgumentException($"Positions need {n} entries, got {positions.Length}.", nameof(positions));
        if (segments is not null && segments.Length != n) throw new ArgumentException($"Segment ids need {n} entries, got {segments.Length}.", nameof(segments));
        B = batch;
        T = length;
        HostTokens = tokens;
        HostPositions = positions;
        HostSegments = segments;
        Tokens = Tensor.FromInt32(device, tokens, n);
        Positions = Tensor.FromInt32(device, positions, n);
        Segments = segments is null ? null : Tensor.FromInt32(device, segments, n);
    }

    /// <summary>Number of sequences.</summary>
    public int B { get; }

    /// <summary>Length of every sequence (padded).</summary>
    public int T { get; }

    /// <summary>B·T.</summary>
    public int N => B * T;

    /// <summary>Token ids on the device, [B·T].</summary>
    public Tensor Tokens { get; }

    /// <summary>RoPE positions on the device, [B·T].</summary>
    public Tensor Positions { get; }

    /// <summary>Segment ids on the device, [B·T], or null for plain causal attention.</summary>
    public Tensor? Segments { get; }

    /// <summary>Host copy of the token ids.</summary>
    public int[] HostTokens { get; }

    /// <summary>Host copy of the positions.</summary>
    public int[] HostPositions { get; }

    /// <summary>Host copy of the segment ids, or null.</summary>
    public int[]? HostSegments { get; }

    /// <summary>Returns the buffers to the pool.</summary>
    public void Dispose()
    {
        Tokens.Dispose();
        Positions.Dispose();
        Segments?.Dispose();
    }
}
