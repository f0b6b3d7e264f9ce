using ILGPU;
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
    /// o [B, Tq, Hq, D] = softmax(q·Kᵀ·scale) V over the cached keys visible to each query (positions ≤ start + tq).
    /// </summary>
    public void Forward(ArrayView<float> q, ArrayView<float> kCache, ArrayView<float> vCache, ArrayView<float> o,
        int B, int Tq, int start, int Tmax, int Hq, int Hkv, int D, float? scale = null)
    {
        const string op = "CachedAttention.Forward";
        int rows = Check.Positive(op, (nameof(B), B), (nameof(Tq), Tq), (nameof(Hq), Hq));
        Check.Positive(op, (nameof(Hkv), Hkv), (nameof(D), D));
        if (Hq % Hkv != 0) throw new ArgumentException($"{op}: Hq ({Hq}) must be a multiple of Hkv ({Hkv}).");
        if (start < 0 || start + Tq > Tmax) throw new ArgumentException($"{op}: positions [{start}, {start + Tq}) do not fit the cache of {Tmax}.");
        Check.Length(op, nameof(q), q, (long)rows * D);
        Check.Length(op, nameof(o), o, (long)rows * D);
        Check.Length(op, nameof(kCache), kCache, (long)B * Tmax * Hkv * D);
        Check.Length(op, nameof(vCache), vCache, (long)B * Tmax * Hkv * D);
        float s = scale ?? 1f / MathF.Sqrt(D);
        _k.Get("CachedAttention.Forward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, int, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (G.Threads(rows), G.PerThread(rows), rows, Tq, start, Tmax, Hq, Hkv, D, s, q, kCache, vCache, o);
    }

    private static void ForwardKernel(Index1D t, int per, int rows, int Tq, int start, int Tmax, int Hq, int Hkv, int D, float scale,
        ArrayView<float> q, ArrayView<float> kc, ArrayView<float> vc, ArrayView<float> o)
    {
        int group = Hq / Hkv;
        for (int r = Chunk.Start(t, per), e = Chunk.End(t, per, rows); r < e; r++)
        {
            // r = (b·Tq + tq)·Hq + h
            int h = r % Hq, bt = r / Hq, tq = bt % Tq, b = bt / Tq, kh = h / group;
            long qo = (long)r * D;
            int last = start + tq;
            float max = float.NegativeInfinity;
            for (int j = 0; j <= last; j++)
            {
                long ko = (((long)b * Tmax + j) * Hkv + kh) * D;
                float dot = 0f;
                for (int d = 0; d < D; d++) dot += q[qo + d] * kc[ko + d];
                dot *= scale;
                if (dot > max) max = dot;
            }
            for (int d = 0; d < D; d++) o[qo + d] = 0f;
            float sum = 0f;
            for (int j = 0; j <= last; j++)
            {
                long ko = (((long)b * Tmax + j) * Hkv + kh) * D;
                float dot = 0f;
                for (int d = 0; d < D; d++) dot += q[qo + d] * kc[ko + d];
                float p = MathF.Exp(dot * scale - max);
                sum += p;
                for (int d = 0; d < D; d++) o[qo + d] += p * vc[ko + d];
            }
            float inv = 1f / sum;
            for (int d = 0; d < D; d++) o[qo + d] *= inv;
        }
    }
}
