using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;
using System.Runtime.Intrinsics;

namespace Jepa.Kernels;

/// <summary>
/// Inverted dropout with a counter-based mask: element i of a call keyed by (<c>seed</c>, <c>stream</c>) is kept when
/// output i mod 4 of the Philox block (seed, stream, ⌊i/4⌋), read as a uniform in [0, 1) from its top 24 bits, is ≥ p
/// (<see cref="Keeps"/>; one block serves four elements), and kept elements are scaled by 1/(1−p). The mask is a pure
/// function of (seed, stream, i), so the backward regenerates it instead of storing it, and the same bits come out
/// on the host, the CPU accelerator and GPUs whatever the thread count.
/// </summary>
public sealed class Dropout
{
    private readonly KernelCache _k;
    private readonly bool _host;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="path">By default the host path on the CPU accelerator and the kernel elsewhere; <see cref="KernelPath.Kernel"/> forces the kernel.</param>
    public Dropout(KernelCache kernels, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        Path = KernelPaths.Resolve("Dropout", kernels, path);
        _host = Path == KernelPath.Host;
    }

    /// <summary>The path this instance runs.</summary>
    public KernelPath Path { get; }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>Whether element <paramref name="index"/> of the mask keyed by (<paramref name="seed"/>, <paramref name="stream"/>)
    /// is kept at drop probability <paramref name="p"/> (the host reference of the kernels' mask).</summary>
    public static bool Keeps(ulong seed, ulong stream, long index, float p)
    {
        Philox.Block(seed, stream, (ulong)index >> 2, out uint r0, out uint r1, out uint r2, out uint r3);
        return Kept(Lane((int)(index & 3), r0, r1, r2, r3), p);
    }

    /// <summary>Output <paramref name="lane"/> of a Philox block.</summary>
    private static uint Lane(int lane, uint r0, uint r1, uint r2, uint r3) => lane == 0 ? r0 : lane == 1 ? r1 : lane == 2 ? r2 : r3;

    /// <summary>Whether 32 random bits keep an element: their top 24 bits as a uniform in [0, 1) reach <paramref name="p"/>.</summary>
    private static bool Kept(uint bits, float p) => (bits >> 8) * (1.0f / 16777216.0f) >= p;

    private static float ScaleOf(string op, float p)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, $"{op}: the drop probability must be in [0, 1).");
        return 1f / (1f - p);
    }

    /// <summary>y = x ⊙ mask / (1−p) over <paramref name="n"/> elements (y may alias x).</summary>
    public void Forward(ArrayView<float> x, ArrayView<float> y, int n, float p, ulong seed, ulong stream)
    {
        float scale = ScaleOf("Dropout", p);
        Check.Length("Dropout", nameof(x), x, n); Check.Length("Dropout", nameof(y), y, n);
        if (n == 0) return;
        if (_host) { unsafe { Host(HostThreads(), HostView.Ptr(x, nameof(x)), HostView.Ptr(y, nameof(y)), n, p, scale, seed, stream, accumulate: false); } return; }
        _k.Get("Dropout.Forward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, float, float, ulong, ulong, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (G.Threads(n), G.PerThread(n), n, p, scale, seed, stream, x, y);
    }

    /// <summary>Backward of <see cref="Forward"/> with the same key: dx += dy ⊙ mask / (1−p), the mask regenerated from the counter.</summary>
    public void Backward(ArrayView<float> dy, ArrayView<float> dx, int n, float p, ulong seed, ulong stream)
    {
        float scale = ScaleOf("DropoutBackward", p);
        Check.Length("DropoutBackward", nameof(dy), dy, n); Check.Length("DropoutBackward", nameof(dx), dx, n);
        if (n == 0) return;
        if (_host) { unsafe { Host(HostThreads(), HostView.Ptr(dy, nameof(dy)), HostView.Ptr(dx, nameof(dx)), n, p, scale, seed, stream, accumulate: true); } return; }
        _k.Get("Dropout.Backward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, float, float, ulong, ulong, ArrayView<float>, ArrayView<float>>(BackwardKernel))
            (G.Threads(n), G.PerThread(n), n, p, scale, seed, stream, dy, dx);
    }

    private static void ForwardKernel(Index1D t, int per, int n, float p, float scale, ulong seed, ulong stream, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            Philox.Block(seed, stream, (ulong)i >> 2, out uint r0, out uint r1, out uint r2, out uint r3);
            y[i] = Kept(Lane(i & 3, r0, r1, r2, r3), p) ? x[i] * scale : 0f;
        }
    }

    private static void BackwardKernel(Index1D t, int per, int n, float p, float scale, ulong seed, ulong stream, ArrayView<float> dy, ArrayView<float> dx)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            Philox.Block(seed, stream, (ulong)i >> 2, out uint r0, out uint r1, out uint r2, out uint r3);
            if (Kept(Lane(i & 3, r0, r1, r2, r3), p)) dx[i] += dy[i] * scale;
        }
    }

    private int HostThreads()
    {
        _k.Accelerator.DefaultStream.Synchronize();
        return G.CpuChunks;
    }

    /// <summary>The host path: the same per-element formulas in fixed ranges, 32 elements (eight Philox blocks) at a time
    /// through <see cref="PhiloxSimd.Words32"/> when AVX2 is there, element by element at the ragged ends of a range
    /// (and everywhere without AVX2). Both draw the same words, so the result is bitwise that of the kernels.</summary>
    private static unsafe void Host(int threads, float* src, float* dst, int n, float p, float scale, ulong seed, ulong stream, bool accumulate) =>
        HostParallel.ForRanges(n, HostParallel.Chunk, threads, (s, e) =>
        {
            long i = s;
            if (PhiloxSimd.IsSupported)
            {
                // head up to a block boundary, then whole groups of eight blocks
                long head = Math.Min(e, (s + 3) & ~3L);
                HostScalar(src, dst, i, head, p, scale, seed, stream, accumulate);
                i = head;
                for (; i + 32 <= e; i += 32)
                {
                    PhiloxSimd.Words32(seed, stream, (ulong)i >> 2, out var w0, out var w1, out var w2, out var w3);
                    Apply8(w0, src + i, dst + i, p, scale, accumulate);
                    Apply8(w1, src + i + 8, dst + i + 8, p, scale, accumulate);
                    Apply8(w2, src + i + 16, dst + i + 16, p, scale, accumulate);
                    Apply8(w3, src + i + 24, dst + i + 24, p, scale, accumulate);
                }
            }
            HostScalar(src, dst, i, e, p, scale, seed, stream, accumulate);
        });

    /// <summary>Elements [<paramref name="s"/>, <paramref name="e"/>) one by one, one Philox block per four consecutive elements.</summary>
    private static unsafe void HostScalar(float* src, float* dst, long s, long e, float p, float scale, ulong seed, ulong stream, bool accumulate)
    {
        for (long i = s; i < e;)
        {
            Philox.Block(seed, stream, (ulong)i >> 2, out uint r0, out uint r1, out uint r2, out uint r3);
            for (int lane = (int)(i & 3); lane < 4 && i < e; lane++, i++)
            {
                bool keep = Kept(Lane(lane, r0, r1, r2, r3), p);
                if (accumulate) { if (keep) dst[i] += src[i] * scale; }
                else dst[i] = keep ? src[i] * scale : 0f;
            }
        }
    }

    /// <summary>Eight elements with their eight words: <see cref="Kept"/> lane by lane ((bits ≫ 8) is below 2^24, so its
    /// conversion to float and the product by 2^−24 are exact, as in the scalar formula), then the kernels' select or
    /// accumulate (a select, not an added zero, so a dropped −0 gradient stays −0).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void Apply8(Vector256<uint> words, float* src, float* dst, float p, float scale, bool accumulate)
    {
        var u = Vector256.ConvertToSingle(Vector256.ShiftRightLogical(words, 8).AsInt32()) * Vector256.Create(1.0f / 16777216.0f);
        var keep = Vector256.GreaterThanOrEqual(u, Vector256.Create(p));
        var v = Vector256.Load(src) * Vector256.Create(scale);
        if (accumulate)
        {
            var d = Vector256.Load(dst);
            Vector256.ConditionalSelect(keep, d + v, d).Store(dst);
        }
        else Vector256.ConditionalSelect(keep, v, Vector256<float>.Zero).Store(dst);
    }
}
