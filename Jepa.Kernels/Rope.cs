using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// Rotary position embedding on x [B, T, H, D]: every pair of a head vector (chosen by
/// <see cref="RopeConvention"/>) is rotated by the angle <c>pos · θ^(−2i/D)</c>, with the position of token
/// (b, t) either <c>start + t</c> or read from a positions view [B, T] (so packed sequences can restart
/// at 0). cos/sin come from a host-computed double-precision <see cref="RopeTable"/>. The backward is the
/// inverse rotation: <c>dx += R(−angle)·dy</c>. A position outside the table gives NaN outputs rather than
/// reading out of bounds.
/// <para>On the CPU accelerator the op runs by default as SIMD host code in place on the accelerator's buffers
/// (<see cref="KernelPath"/>), with the kernels' per-pair roundings, so both paths give the same bits.</para>
/// </summary>
public sealed class Rope
{
    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="path">Which implementation runs: by default the host path on the CPU accelerator and the kernels
    /// elsewhere; <see cref="KernelPath.Kernel"/> forces the kernels.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public Rope(KernelCache kernels, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        Path = KernelPaths.Resolve("Rope", kernels, path);
    }

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>Builds the cos/sin table for head size <paramref name="headDim"/> (even), positions
    /// 0 … <paramref name="maxPositions"/> − 1 and base <paramref name="theta"/>, on this op's device.</summary>
    public RopeTable CreateTable(int headDim, int maxPositions, double theta = 10000.0)
    {
        Check.Positive("Rope.CreateTable", (nameof(headDim), headDim), (nameof(maxPositions), maxPositions));
        if (headDim % 2 != 0) throw new ArgumentException($"Rope.CreateTable: headDim must be even, got {headDim}.", nameof(headDim));
        if (!(theta > 1.0) || double.IsInfinity(theta)) throw new ArgumentOutOfRangeException(nameof(theta), theta, "Rope.CreateTable: theta must be a finite base above 1.");
        return new RopeTable(_k.Device, maxPositions, theta, RopeTable.InverseFrequencies(headDim, theta));
    }

    /// <summary>Builds the cos/sin table from explicit inverse frequencies (one per rotated pair, so the head size is
    /// twice their count), as rescaled RoPE variants (Llama 3's, linear) need; <paramref name="theta"/> is recorded only.</summary>
    public RopeTable CreateTable(int maxPositions, double theta, ReadOnlySpan<double> inverseFrequencies)
    {
        Check.Positive("Rope.CreateTable", (nameof(maxPositions), maxPositions), ("inverseFrequencies.Length", inverseFrequencies.Length));
        foreach (double f in inverseFrequencies)
            if (!(f > 0) || double.IsInfinity(f)) throw new ArgumentOutOfRangeException(nameof(inverseFrequencies), f, "Rope.CreateTable: inverse frequencies must be positive and finite.");
        return new RopeTable(_k.Device, maxPositions, theta, inverseFrequencies);
    }

    /// <summary>y = RoPE(x) with positions <paramref name="startPosition"/> + t for every batch row.
    /// <paramref name="y"/> may alias <paramref name="x"/> (in place).</summary>
    /// <param name="x">Input [B, T, H, D].</param>
    /// <param name="y">Output [B, T, H, D].</param>
    /// <param name="table">cos/sin table for head size D; needs startPosition + T ≤ MaxPositions.</param>
    /// <param name="B">Batch.</param>
    /// <param name="T">Sequence length.</param>
    /// <param name="H">Heads.</param>
    /// <param name="D">Head size (even).</param>
    /// <param name="convention">Which elements are paired.</param>
    /// <param name="startPosition">Position of t = 0.</param>
    public void Forward(ArrayView<float> x, ArrayView<float> y, RopeTable table, int B, int T, int H, int D, RopeConvention convention, int startPosition = 0) =>
        LaunchRange("Rope", x, y, table, B, T, H, D, convention, startPosition, backward: 0);

    /// <summary>y = RoPE(x) with the position of token (b, t) read from <paramref name="positions"/>[b, t].
    /// <paramref name="y"/> may alias <paramref name="x"/> (in place).</summary>
    /// <param name="x">Input [B, T, H, D].</param>
    /// <param name="y">Output [B, T, H, D].</param>
    /// <param name="table">cos/sin table for head size D; every position must be below MaxPositions.</param>
    /// <param name="positions">Position ids [B, T].</param>
    /// <param name="B">Batch.</param>
    /// <param name="T">Sequence length.</param>
    /// <param name="H">Heads.</param>
    /// <param name="D">Head size (even).</param>
    /// <param name="convention">Which elements are paired.</param>
    public void Forward(ArrayView<float> x, ArrayView<float> y, RopeTable table, ArrayView<int> positions, int B, int T, int H, int D, RopeConvention convention) =>
        LaunchPositions("Rope", x, y, table, positions, B, T, H, D, convention, backward: 0);

    /// <summary>Backward of <see cref="Forward(ArrayView{float}, ArrayView{float}, RopeTable, int, int, int, int, RopeConvention, int)"/>:
    /// dx += R(−angle)·dy (accumulates; dx must not alias dy).</summary>
    /// <param name="dy">Output gradient [B, T, H, D].</param>
    /// <param name="dx">Input gradient [B, T, H, D], accumulated.</param>
    /// <param name="table">The forward's table.</param>
    /// <param name="B">Batch.</param>
    /// <param name="T">Sequence length.</param>
    /// <param name="H">Heads.</param>
    /// <param name="D">Head size (even).</param>
    /// <param name="convention">The forward's convention.</param>
    /// <param name="startPosition">The forward's start position.</param>
    public void Backward(ArrayView<float> dy, ArrayView<float> dx, RopeTable table, int B, int T, int H, int D, RopeConvention convention, int startPosition = 0) =>
        LaunchRange("RopeBackward", dy, dx, table, B, T, H, D, convention, startPosition, backward: 1);

    /// <summary>Backward of <see cref="Forward(ArrayView{float}, ArrayView{float}, RopeTable, ArrayView{int}, int, int, int, int, RopeConvention)"/>:
    /// dx += R(−angle)·dy (accumulates; dx must not alias dy).</summary>
    /// <param name="dy">Output gradient [B, T, H, D].</param>
    /// <param name="dx">Input gradient [B, T, H, D], accumulated.</param>
    /// <param name="table">The forward's table.</param>
    /// <param name="positions">The forward's position ids [B, T].</param>
    /// <param name="B">Batch.</param>
    /// <param name="T">Sequence length.</param>
    /// <param name="H">Heads.</param>
    /// <param name="D">Head size (even).</param>
    /// <param name="convention">The forward's convention.</param>
    public void Backward(ArrayView<float> dy, ArrayView<float> dx, RopeTable table, ArrayView<int> positions, int B, int T, int H, int D, RopeConvention convention) =>
        LaunchPositions("RopeBackward", dy, dx, table, positions, B, T, H, D, convention, backward: 1);

    private int CheckArgs(string op, ArrayView<float> input, ArrayView<float> output, RopeTable table, int B, int T, int H, int D)
    {
        int n = Check.Positive(op, (nameof(B), B), (nameof(T), T), (nameof(H), H), (nameof(D), D));
        if (D % 2 != 0) throw new ArgumentException($"{op}: head size D must be even, got {D}.", nameof(D));
        if (table.HeadDim != D) throw new ArgumentException($"{op}: the table is for head size {table.HeadDim} but D = {D}.", nameof(table));
        if (!ReferenceEquals(table.Device, _k.Device)) throw new ArgumentException($"{op}: the table lives on another device.", nameof(table));
        Check.Length(op, "input", input, n); Check.Length(op, "output", output, n);
        return n / 2;
    }

    private static int Interleaved(RopeConvention c) => c switch
    {
        RopeConvention.RotateHalf => 0,
        RopeConvention.Interleaved => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(c), c, "Unknown RoPE convention."),
    };

    private void LaunchRange(string op, ArrayView<float> input, ArrayView<float> output, RopeTable table, int B, int T, int H, int D,
        RopeConvention convention, int startPosition, int backward)
    {
        int pairs = CheckArgs(op, input, output, table, B, T, H, D);
        if (startPosition < 0 || (long)startPosition + T > table.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(startPosition), startPosition,
                $"{op}: positions {startPosition} … {(long)startPosition + T - 1} exceed the table's {table.MaxPositions}.");
        if (Path == KernelPath.Host)
        {
            RunHost(input, output, table, default, startPosition, B, T, H, D, convention, backward);
            return;
        }
        _k.Get("Rope.Range", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(RangeKernel))
            (G.Threads(pairs), G.PerThread(pairs), pairs, T, H, D / 2, table.MaxPositions, startPosition, Interleaved(convention), backward, input, output, table.View);
    }

    private void LaunchPositions(string op, ArrayView<float> input, ArrayView<float> output, RopeTable table, ArrayView<int> positions,
        int B, int T, int H, int D, RopeConvention convention, int backward)
    {
        int pairs = CheckArgs(op, input, output, table, B, T, H, D);
        Check.Length(op, nameof(positions), positions, (long)B * T);
        if (Path == KernelPath.Host)
        {
            RunHost(input, output, table, positions, 0, B, T, H, D, convention, backward);
            return;
        }
        _k.Get("Rope.Positions", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(PositionsKernel))
            (G.Threads(pairs), G.PerThread(pairs), pairs, H, D / 2, table.MaxPositions, Interleaved(convention), backward, input, output, table.View, positions);
    }

    private unsafe void RunHost(ArrayView<float> input, ArrayView<float> output, RopeTable table, ArrayView<int> positions, int start,
        int B, int T, int H, int D, RopeConvention convention, int backward)
    {
        _k.Accelerator.DefaultStream.Synchronize();
        RopeCpu.Run(G.CpuChunks, HostView.Ptr(input, nameof(input)), HostView.Ptr(output, nameof(output)), HostView.Ptr(table.View, nameof(table)),
            positions.IsValid ? HostView.Ptr(positions, nameof(positions)) : null, start, B, T, H, D, table.MaxPositions,
            Interleaved(convention) != 0, backward != 0);
    }

    private static void RangeKernel(Index1D t, int per, int pairs, int T, int H, int half, int maxPos, int start, int interleaved, int backward,
        ArrayView<float> input, ArrayView<float> output, ArrayView<float> table)
    {
        for (int p = Chunk.Start(t, per), e = Chunk.End(t, per, pairs); p < e; p++)
        {
            int row = p / half;
            int pos = start + (row / H) % T;
            RotatePair(p, row, pos, half, maxPos, interleaved, backward, input, output, table);
        }
    }

    private static void PositionsKernel(Index1D t, int per, int pairs, int H, int half, int maxPos, int interleaved, int backward,
        ArrayView<float> input, ArrayView<float> output, ArrayView<float> table, ArrayView<int> positions)
    {
        for (int p = Chunk.Start(t, per), e = Chunk.End(t, per, pairs); p < e; p++)
        {
            int row = p / half;
            RotatePair(p, row, positions[row / H], half, maxPos, interleaved, backward, input, output, table);
        }
    }

    // Pair p of head row `row` (a [D] vector): forward output = R(angle)·input, backward output += R(−angle)·input.
    private static void RotatePair(int p, int row, int pos, int half, int maxPos, int interleaved, int backward,
        ArrayView<float> input, ArrayView<float> output, ArrayView<float> table)
    {
        int i = p - row * half;
        long a, b;
        if (interleaved != 0)
        {
            a = 2L * p;
            b = a + 1;
        }
        else
        {
            a = 2L * row * half + i;
            b = a + half;
        }
        float c, s;
        if ((uint)pos < (uint)maxPos)
        {
            long k = (long)pos * half + i;
            c = table[k];
            s = table[(long)maxPos * half + k];
        }
        else
        {
            c = float.NaN;
            s = float.NaN;
        }
        float xa = input[a], xb = input[b];
        if (backward != 0)
        {
            output[a] += xa * c + xb * s;
            output[b] += xb * c - xa * s;
        }
        else
        {
            output[a] = xa * c - xb * s;
            output[b] = xb * c + xa * s;
        }
    }
}
