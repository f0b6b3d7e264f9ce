using ILGPU;
using ILGPU.Runtime;

namespace Jepa.Kernels;

/// <summary>
/// The mean of each segment of consecutive rows: rows [o_b, o_{b+1}) of x [R, C] pool into row b of y [B, C],
/// with the segment offsets o [B + 1] (o_0 = 0, o_B = R, every segment non-empty):
/// <code>
///   y_bc = (1 / n_b) Σ_{r = o_b}^{o_{b+1} − 1} x_rc,   n_b = o_{b+1} − o_b,
///   ∂y_bc/∂x_rc = 1 / n_b   for o_b ≤ r &lt; o_{b+1},   so dx_rc += dy_bc / n_b.
/// </code>
/// This is how a view embeds as the mean of its tokens' states. Deterministic: one thread owns each (b, c) and sums its
/// rows in order; segments are disjoint, so the backward writes each dx element from one thread. No atomics.
/// </summary>
public sealed class SegmentMean
{
    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    public SegmentMean(KernelCache kernels) => _k = kernels;

    /// <summary>Throws unless <paramref name="offsets"/> starts at 0, rises strictly and ends at <paramref name="rows"/>.</summary>
    public static void Validate(IReadOnlyList<int> offsets, int rows)
    {
        if (offsets.Count < 2) throw new ArgumentException($"SegmentMean: offsets need at least 2 entries (one segment), got {offsets.Count}.", nameof(offsets));
        if (offsets[0] != 0) throw new ArgumentException($"SegmentMean: offsets must start at 0, got {offsets[0]}.", nameof(offsets));
        for (int b = 1; b < offsets.Count; b++)
            if (offsets[b] <= offsets[b - 1]) throw new ArgumentException($"SegmentMean: segment {b - 1} is empty or reversed (offsets {offsets[b - 1]}..{offsets[b]}).", nameof(offsets));
        if (offsets[^1] != rows) throw new ArgumentException($"SegmentMean: offsets end at {offsets[^1]}, but x has {rows} rows.", nameof(offsets));
    }

    /// <summary>y [B, C] = the mean of each segment of x [R, C]; <paramref name="offsets"/> [B + 1] on the device.</summary>
    public void Forward(ArrayView<float> x, ArrayView<int> offsets, ArrayView<float> y, int R, int B, int C)
    {
        const string op = "SegmentMean";
        int n = Check.Positive(op, (nameof(B), B), (nameof(C), C));
        Check.Length(op, nameof(x), x, (long)Check.Positive(op, (nameof(R), R), (nameof(C), C)));
        Check.Length(op, nameof(offsets), offsets, B + 1);
        Check.Length(op, nameof(y), y, n);
        var g = _k.Device.Geometry;
        _k.Get("SegmentMean.Forward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>>(ForwardKernel))
            (g.Threads(n), g.PerThread(n), n, C, x, offsets, y);
    }

    /// <summary>dx [R, C] += the backward of <see cref="Forward"/> for dy [B, C].</summary>
    public void Backward(ArrayView<float> dy, ArrayView<int> offsets, ArrayView<float> dx, int R, int B, int C)
    {
        const string op = "SegmentMeanBackward";
        int n = Check.Positive(op, (nameof(B), B), (nameof(C), C));
        Check.Length(op, nameof(dx), dx, (long)Check.Positive(op, (nameof(R), R), (nameof(C), C)));
        Check.Length(op, nameof(offsets), offsets, B + 1);
        Check.Length(op, nameof(dy), dy, n);
        var g = _k.Device.Geometry;
        _k.Get("SegmentMean.Backward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>>(BackwardKernel))
            (g.Threads(n), g.PerThread(n), n, C, dy, offsets, dx);
    }

    private static void ForwardKernel(Index1D t, int per, int total, int C, ArrayView<float> x, ArrayView<int> offsets, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, total); i < e; i++)
        {
            int b = i / C, c = i % C, from = offsets[b], to = offsets[b + 1];
            float s = 0f;
            for (int r = from; r < to; r++) s += x[(long)r * C + c];
            y[i] = s / (to - from);
        }
    }

    private static void BackwardKernel(Index1D t, int per, int total, int C, ArrayView<float> dy, ArrayView<int> offsets, ArrayView<float> dx)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, total); i < e; i++)
        {
            int b = i / C, c = i % C, from = offsets[b], to = offsets[b + 1];
            float g = dy[i] / (to - from);
            for (int r = from; r < to; r++) dx[(long)r * C + c] += g;
        }
    }
}
