using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Attention for generation with a key/value cache: new queries at positions [start, start + Tq) attend
/// causally to the cached keys [0, start + Tq). Forward only (inference). One thread per (b, head, query)
/// on GPUs, coarse chunks on the CPU; each output row is owned by one thread, so results are deterministic.
/// Cache layout: [B, Tmax, Hkv, D].
/// </summary>
public sealed class CachedAttention
{
    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    public CachedAttention(KernelCache kernels) => _k = kernels;

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>Copies new keys or values x [B, Tq, Hkv, D] into <paramref name="cache"/> [B, Tmax, Hkv, D] at positions [start, start + Tq).</summary>
    public void Append(ArrayView<float> x, ArrayView<float> cache, int B, int Tq, int start, int Tmax, int Hkv, int D)
    {
        const string op = "CachedAttention.Append";
        int n = Check.Positive(op, (nameof(B), B), (nameof(Tq), Tq), (nameof(Hkv), Hkv), (nameof(D), D));
        if (start < 0 || start + Tq > Tmax) throw new ArgumentException($"{op}: positions [{start}, {start + Tq}) do not fit the cache of {Tmax}.");
        Check.Length(op, nameof(x), x, n);
        Check.Length(op, nameof(cache), cache, (long)B * Tmax * Hkv * D);
        _k.Get("CachedAttention.Append", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, int, ArrayView<float>, ArrayView<float>>(AppendKernel))
            (G.Threads(n), G.PerThread(n), n, Tq, start, Tmax, Hkv * D, x, cache);
    }

    private static void AppendKernel(Index1D t, int per, int n, int Tq, int start, int Tmax, int rowWidth, ArrayView<float> x, ArrayView<float> cache)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            int row = i / rowWidth, col = i - row * rowWidth;
            int b = row / Tq, tq = row - b * Tq;
            cache[((long)b * Tmax + start + tq) * rowWidth + col] = x[i];
        }
    }

    /// <summary>
    /// o [B, Tq, Hq, D] = softmax(q·Kᵀ·scale) V over the cached keys visible to each query (positions ≤ start + tq, and with a
    /// sliding window W &gt; 0 above start + tq − W), each score soft-capped to c·tanh(s / c) when c = <paramref name="softCap"/> &gt; 0,
    /// as <see cref="Attention.Forward"/> does.
    /// </summary>
    public void Forward(ArrayView<float> q, ArrayView<float> kCache, ArrayView<float> vCache, ArrayView<float> o,
        int B, int Tq, int start, int Tmax, int Hq, int Hkv, int D, float? scale = null, float softCap = 0f, int window = 0)
    {
        const string op = "CachedAttention.Forward";
        Attention.CheckCapAndWindow(op, softCap, window);
        int rows = Check.Positive(op, (nameof(B), B), (nameof(Tq), Tq), (nameof(Hq), Hq));
        Check.Positive(op, (nameof(Hkv), Hkv), (nameof(D), D));
        if (Hq % Hkv != 0) throw new ArgumentException($"{op}: Hq ({Hq}) must be a multiple of Hkv ({Hkv}).");
        if (start < 0 || start + Tq > Tmax) throw new ArgumentException($"{op}: positions [{start}, {start + Tq}) do not fit the cache of {Tmax}.");
        Check.Length(op, nameof(q), q, (long)rows * D);
        Check.Length(op, nameof(o), o, (long)rows * D);
        Check.Length(op, nameof(kCache), kCache, (long)B * Tmax * Hkv * D);
        Check.Length(op, nameof(vCache), vCache, (long)B * Tmax * Hkv * D);
        float s = scale ?? 1f / MathF.Sqrt(D);
        var shape = new Shape { Tq = Tq, Start = start, Tmax = Tmax, Hq = Hq, Hkv = Hkv, D = D, Scale = s, SoftCap = softCap, Window = window };
        _k.Get("CachedAttention.Forward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, Shape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (G.Threads(rows), G.PerThread(rows), rows, shape, q, kCache, vCache, o);
    }

    /// <summary>Sizes and options of one <see cref="Forward"/> call as handed to the kernel (public because ILGPU's CPU backend
    /// needs kernel parameter types to be visible).</summary>
    public struct Shape
    {
        /// <summary>New queries per sequence, first new position, cache length, query and key/value heads, head dimension.</summary>
        public int Tq, Start, Tmax, Hq, Hkv, D;
        /// <summary>Softmax scale and soft cap (0: none).</summary>
        public float Scale, SoftCap;
        /// <summary>Sliding window (0: none).</summary>
        public int Window;
    }

    private static void ForwardKernel(Index1D t, int per, int rows, Shape sh, ArrayView<float> q, ArrayView<float> kc, ArrayView<float> vc, ArrayView<float> o)
    {
        int Tq = sh.Tq, start = sh.Start, Tmax = sh.Tmax, Hq = sh.Hq, Hkv = sh.Hkv, D = sh.D, window = sh.Window;
        float scale = sh.Scale, softCap = sh.SoftCap;
        int group = Hq / Hkv;
        for (int r = Chunk.Start(t, per), e = Chunk.End(t, per, rows); r < e; r++)
        {
            // r = (b·Tq + tq)·Hq + h
            int h = r % Hq, bt = r / Hq, tq = bt % Tq, b = bt / Tq, kh = h / group;
            long qo = (long)r * D;
            int last = start + tq, first = window > 0 ? XMath.Max(0, last - window + 1) : 0;
            float max = float.NegativeInfinity;
            for (int j = first; j <= last; j++)
            {
                long ko = (((long)b * Tmax + j) * Hkv + kh) * D;
                float dot = 0f;
                for (int d = 0; d < D; d++) dot += q[qo + d] * kc[ko + d];
                dot *= scale;
                if (softCap > 0f) dot = softCap * XMath.Tanh(dot / softCap);
                if (dot > max) max = dot;
            }
            for (int d = 0; d < D; d++) o[qo + d] = 0f;
            float sum = 0f;
            for (int j = first; j <= last; j++)
            {
                long ko = (((long)b * Tmax + j) * Hkv + kh) * D;
                float dot = 0f;
                for (int d = 0; d < D; d++) dot += q[qo + d] * kc[ko + d];
                float sc = dot * scale;
                if (softCap > 0f) sc = softCap * XMath.Tanh(sc / softCap);
                float p = MathF.Exp(sc - max);
                sum += p;
                for (int d = 0; d < D; d++) o[qo + d] += p * vc[ko + d];
            }
            float inv = 1f / sum;
            for (int d = 0; d < D; d++) o[qo + d] *= inv;
        }
    }
}
