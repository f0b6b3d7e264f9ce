using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Jepa.Core;

namespace Jepa.Kernels.Cpu;

/// <summary>How a host reduction loads and combines elements (the kernels' mode, unpacked).</summary>
/// <param name="Load">0: x, 1: x², 2: |x|.</param>
/// <param name="IsMax">Combine by max (NaN-propagating) instead of by addition.</param>
/// <param name="Sqrt">Take the square root of the result.</param>
internal readonly record struct ReductionMode(int Load, bool IsMax, bool Sqrt)
{
    /// <summary>The padding value: 0 for sums and max |x|, −∞ for max.</summary>
    public float Identity => IsMax && Load != 2 ? float.NegativeInfinity : 0f;

    /// <summary>The same mode without the square root (for partials).</summary>
    public ReductionMode Partial => this with { Sqrt = false };

    /// <summary>The mode that combines partials: plain loads, same combine and finish.</summary>
    public ReductionMode Finishing => this with { Load = 0 };

    public float Finish(float r) => Sqrt ? MathF.Sqrt(r) : r;
}

/// <summary>
/// The host path of <see cref="Reductions"/>: the very tree the kernels compute (blocks of
/// <see cref="LaunchGeometry.ReductionBlock"/>, each padded with the identity and reduced by the pairwise levels
/// <c>s[i] ⊕= s[i + w]</c>, w = width/2, …, 1; block results reduced the same way, level after level), with the
/// levels of eight or more pairs eight lanes at a time. Every addition is the kernels', in the kernels' tree, so
/// both paths give the same bits. Blocks run in fixed groups over the CPU threads.
/// </summary>
internal static unsafe class ReductionsCpu
{
    private const int Block = LaunchGeometry.ReductionBlock;

    /// <summary>Blocks reduced by one work item.</summary>
    private const int BlocksPerItem = 16;

    /// <summary>The reduction of x[0, n) into result[0], as <see cref="Reductions.Reduce(ReductionKind, ILGPU.ArrayView{float}, int, ILGPU.ArrayView{float})"/>.</summary>
    public static void Reduce(int threads, float* x, int n, ReductionMode mode, float* result)
    {
        if (n <= Block)
        {
            *result = mode.Finish(Tree(x, n, Width(n), mode));
            return;
        }
        Views(threads, [(nint)x], [n], mode, result);
    }

    /// <summary>The reduction of every element of every view, as the multi-view kernels order it: each view's block
    /// partials (a one-block view reduced at its own width) laid out view after view, then reduced level by level.</summary>
    public static void Views(int threads, nint[] views, int[] lengths, ReductionMode mode, float* result)
    {
        int count = views.Length;
        var start = new int[count + 1];
        for (int v = 0; v < count; v++) start[v + 1] = start[v] + (lengths[v] > 0 ? Reductions.BlockCount(lengths[v]) : 0);
        int partials = start[count];
        if (partials == 0)
        {
            *result = mode.Finish(mode.Identity);
            return;
        }
        var rented = ArrayPool<float>.Shared.Rent(partials);
        try
        {
            fixed (float* p = rented)
            {
                float* part = p;
                var partial = mode.Partial;
                HostParallel.ForRanges(partials, BlocksPerItem, threads, (i0, i1) =>
                {
                    int v = Array.BinarySearch(start, (int)i0);
                    if (v < 0) v = ~v - 1;
                    while (start[v + 1] <= i0) v++; // skip empty views
                    for (long i = i0; i < i1; i++)
                    {
                        while (start[v + 1] <= i) v++;
                        int len = lengths[v], b = (int)(i - start[v]);
                        int width = len > Block ? Block : Width(len);
                        long first = (long)b * width;
                        part[i] = Tree((float*)views[v] + first, (int)Math.Min(width, len - first), width, partial);
                    }
                });
                FinishPartials(threads, part, partials, mode, result);
            }
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }

    /// <summary>Reduces <paramref name="m"/> ≥ 1 partials (overwritten) level by level into result[0].</summary>
    private static void FinishPartials(int threads, float* partials, int m, ReductionMode mode, float* result)
    {
        var finish = mode.Finishing;
        while (m > Block)
        {
            int next = Reductions.BlockCount(m), count = m;
            var partial = finish.Partial;
            // Block b reads partials [b·Block, (b+1)·Block) and writes partials[b] after reading: every reader of
            // index b (block b / Block ≤ b) has finished with it once it runs in block order, so run them in order.
            for (int b = 0; b < next; b++)
                partials[b] = Tree(partials + (long)b * Block, Math.Min(Block, count - b * Block), Block, partial);
            m = next;
        }
        *result = finish.Finish(Tree(partials, m, Width(m), finish));
    }

    /// <summary>y[r] = the reduction of row r of an N × C matrix: blocks of Width(C) columns (at most a reduction
    /// block), each by the tree, combined in column order.</summary>
    public static void Rows(int threads, float* x, int N, int C, ReductionMode mode, float* y)
    {
        int width = Width(C);
        int per = Math.Max(1, HostParallel.Chunk / C);
        HostParallel.ForRanges(N, per, threads, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                float* row = x + r * C;
                float acc = 0f;
                for (int c0 = 0; c0 < C; c0 += width)
                {
                    float v = Tree(row + c0, Math.Min(width, C - c0), width, mode);
                    acc = c0 == 0 ? v : Combine(mode.IsMax, acc, v);
                }
                y[r] = mode.Finish(acc);
            }
        });
    }

    /// <summary>Tree width for n elements: the next power of two, at most one block.</summary>
    public static int Width(int n)
    {
        int w = 1;
        while (w < n && w < Block) w *= 2;
        return w;
    }

    /// <summary>The fixed tree over <paramref name="count"/> ≤ <paramref name="width"/> loaded elements of x padded with
    /// the identity to <paramref name="width"/> (a power of two ≤ one block).</summary>
    private static float Tree(float* x, int count, int width, ReductionMode mode)
    {
        float* sh = stackalloc float[width];
        float id = mode.Identity;
        int s;
        if (count == width && width >= 16)
        {
            // The first level straight from x.
            s = width / 2;
            for (int i = 0; i < s; i += 8)
                Combine(mode.IsMax, Load(mode.Load, Vector256.Load(x + i)), Load(mode.Load, Vector256.Load(x + s + i))).Store(sh + i);
            s /= 2;
        }
        else
        {
            int i = 0;
            for (; i + 8 <= count; i += 8) Load(mode.Load, Vector256.Load(x + i)).Store(sh + i);
            for (; i < count; i++) sh[i] = Load(mode.Load, x[i]);
            for (; i < width; i++) sh[i] = id;
            s = width / 2;
        }
        for (; s >= 8; s /= 2)
            for (int i = 0; i < s; i += 8)
                Combine(mode.IsMax, Vector256.Load(sh + i), Vector256.Load(sh + s + i)).Store(sh + i);
        for (; s > 0; s /= 2)
            for (int i = 0; i < s; i++) sh[i] = Combine(mode.IsMax, sh[i], sh[i + s]);
        return sh[0];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Load(int load, float v) => load == 1 ? v * v : load == 2 ? MathF.Abs(v) : v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(int load, Vector256<float> v) => load == 1 ? v * v : load == 2 ? Vector256.Abs(v) : v;

    /// <summary>a ⊕ b; max propagates NaN from either side, as in the kernels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Combine(bool max, float a, float b) => !max ? a + b : float.IsNaN(a) || a > b ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Combine(bool max, Vector256<float> a, Vector256<float> b) =>
        !max ? a + b : Vector256.ConditionalSelect(Vector256.GreaterThan(a, b) | ~Vector256.Equals(a, a), a, b);
}
