using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Device = Jepa.Core.Device;

namespace Jepa.Kernels;

/// <summary>
/// The positions of a token batch grouped by token id, for the deterministic embedding backward
/// (<see cref="Embedding.Backward"/>): a stable counting sort of the host-side tokens into
/// <see cref="UniqueTokens"/> (ascending ids that occur), <see cref="Offsets"/> (<c>U + 1</c> entries:
/// the positions of <c>UniqueTokens[u]</c> are <c>Positions[Offsets[u] .. Offsets[u+1])</c>) and
/// <see cref="Positions"/> (every position once, increasing within each token).
/// Built on the host, where the data loader has the tokens anyway, and uploaded to device int buffers that
/// are reused by later builds (they only grow). Create one per device and rebuild it every step.
/// </summary>
public sealed class EmbeddingGradIndex : IDisposable
{
    private readonly Device _device;
    private Tensor? _unique, _offsets, _positions;
    private int[] _counts = [];
    private int[] _hostUnique = [], _hostOffsets = [], _hostPositions = [];

    /// <summary>Creates an empty index whose buffers live on <paramref name="device"/>.</summary>
    public EmbeddingGradIndex(Device device) => _device = device;

    /// <summary>Number of positions (tokens) indexed by the last <see cref="Build"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Number of distinct token ids in the last build.</summary>
    public int UniqueCount { get; private set; }

    /// <summary>The vocabulary size the last build was validated against.</summary>
    public int Vocab { get; private set; }

    /// <summary>Distinct token ids in ascending order, <see cref="UniqueCount"/> entries.</summary>
    public ArrayView<int> UniqueTokens => Buffer(_unique).SubView(0, UniqueCount);

    /// <summary>Start of each distinct token's positions in <see cref="Positions"/>, <see cref="UniqueCount"/> + 1 entries.</summary>
    public ArrayView<int> Offsets => Buffer(_offsets).SubView(0, UniqueCount + 1);

    /// <summary>Positions grouped by token id, increasing within a token, <see cref="Count"/> entries.</summary>
    public ArrayView<int> Positions => Buffer(_positions).SubView(0, Count);

    private static ArrayView<int> Buffer(Tensor? b) =>
        b?.AsInt32() ?? throw new InvalidOperationException("EmbeddingGradIndex: call Build before using the index.");

    /// <summary>
    /// Checks that every id is in <c>[0, vocab)</c> and throws before touching anything otherwise.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is out of range; the message names its position and value.</exception>
    public static void Validate(ReadOnlySpan<int> tokens, int vocab)
    {
        if (vocab <= 0) throw new ArgumentOutOfRangeException(nameof(vocab), vocab, "Embedding: vocabulary size must be positive.");
        for (int n = 0; n < tokens.Length; n++)
        {
            int id = tokens[n];
            if ((uint)id >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(tokens), id,
                    $"Embedding: token id {id} at position {n} is outside the vocabulary [0, {vocab}).");
        }
    }

    /// <summary>
    /// Validates <paramref name="tokens"/> against <paramref name="vocab"/>, sorts their positions by id
    /// (stable counting sort) and uploads the index. Queued on the device's default stream, so kernels
    /// launched earlier that still read the previous index are not disturbed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside <c>[0, vocab)</c>; the message names the position and the id.</exception>
    public void Build(ReadOnlySpan<int> tokens, int vocab)
    {
        if (tokens.Length == 0) throw new ArgumentException("Embedding: the token batch is empty.", nameof(tokens));
        Validate(tokens, vocab);
        int n = tokens.Length;
        if (_counts.Length < vocab) _counts = new int[vocab];
        var counts = _counts.AsSpan(0, vocab);
        counts.Clear();
        foreach (int id in tokens) counts[id]++;

        Grow(ref _hostUnique, n);
        Grow(ref _hostOffsets, n + 1);
        Grow(ref _hostPositions, n);
        int u = 0, offset = 0;
        for (int id = 0; id < vocab; id++)
        {
            int c = counts[id];
            if (c == 0) continue;
            _hostUnique[u] = id;
            _hostOffsets[u] = offset;
            counts[id] = offset; // from here on: the next free slot of this id
            offset += c;
            u++;
        }
        _hostOffsets[u] = offset;
        for (int p = 0; p < n; p++) _hostPositions[counts[tokens[p]]++] = p;

        Count = n;
        UniqueCount = u;
        Vocab = vocab;
        Upload(ref _unique, _hostUnique.AsSpan(0, u));
        Upload(ref _offsets, _hostOffsets.AsSpan(0, u + 1));
        Upload(ref _positions, _hostPositions.AsSpan(0, n));
    }

    private static void Grow(ref int[] a, int n)
    {
        if (a.Length < n) a = new int[Jepa.Core.BufferPool.BucketFor(n)];
    }

    private void Upload(ref Tensor? buffer, ReadOnlySpan<int> data)
    {
        // Pooled 32-bit storage: an index built and disposed every step reuses the same device memory.
        buffer?.Dispose();
        buffer = Tensor.FromInt32(_device, data, data.Length);
    }

    /// <summary>Returns the device buffers to the pool.</summary>
    public void Dispose()
    {
        _unique?.Dispose(); _offsets?.Dispose(); _positions?.Dispose();
        _unique = _offsets = _positions = null;
    }
}
