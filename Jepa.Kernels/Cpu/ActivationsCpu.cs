using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host path of <see cref="Activations"/> for SiLU and SwiGLU. The logistic function σ(x) = 1 / (1 + exp(−x))
/// comes from <see cref="TensorPrimitives.Sigmoid{T}(ReadOnlySpan{T}, Span{T})"/> (vectorised exp) on segments whose
/// bounds depend only on the sizes; the rest is the kernels' formulas with their roundings: silu = x·σ,
/// silu′ = σ·(1 + x·(1 − σ)), y = (g·σ)·u, dg += (dy·u)·silu′, du += (dy·g)·σ. The vectorised exp rounds
/// differently from the kernels' scalar one, so results differ from the kernels' by about an ulp.
/// </summary>
internal static unsafe class ActivationsCpu
{
    /// <summary>Longest run handed to the vectorised σ at once (a stack buffer of 16 KiB).</summary>
    private const int Segment = 4096;

    /// <summary>y = x·σ(x).</summary>
    public static void Silu(int threads, float* x, float* y, int n) =>
        Runs(threads, n, n, n, (_, j, len, s) =>
        {
            float* xs = x + j, ys = y + j;
            int c = 0;
            for (; c + 8 <= len; c += 8) (Vector256.Load(xs + c) * Vector256.Load(s + c)).Store(ys + c);
            for (; c < len; c++) ys[c] = xs[c] * s[c];
        }, x);

    /// <summary>dx += dy·silu′(x).</summary>
    public static void SiluBackward(int threads, float* x, float* dy, float* dx, int n) =>
        Runs(threads, n, n, n, (_, j, len, s) =>
        {
            float* xs = x + j, gs = dy + j, ds = dx + j;
            var one = Vector256.Create(1f);
            int c = 0;
            for (; c + 8 <= len; c += 8)
            {
                var sv = Vector256.Load(s + c);
                var d = sv * (one + Vector256.Load(xs + c) * (one - sv));
                (Vector256.Load(ds + c) + Vector256.Load(gs + c) * d).Store(ds + c);
            }
            for (; c < len; c++) ds[c] += gs[c] * (s[c] * (1f + xs[c] * (1f - s[c])));
        }, x);

    /// <summary>y[r·F + j] = silu(gate[r·stride + j]) · up[r·stride + j] for the n / F rows.</summary>
    public static void SwiGlu(int threads, float* gate, float* up, float* y, int n, int F, int stride) =>
        Runs(threads, n, F, stride, (i, j, len, s) =>
        {
            float* g = gate + j, u = up + j, ys = y + i;
            int c = 0;
            for (; c + 8 <= len; c += 8) (Vector256.Load(g + c) * Vector256.Load(s + c) * Vector256.Load(u + c)).Store(ys + c);
            for (; c < len; c++) ys[c] = g[c] * s[c] * u[c];
        }, gate);

    /// <summary>dgate += dy ⊙ up ⊙ silu′(gate), dup += dy ⊙ silu(gate), gate-side arrays with row stride
    /// <paramref name="stride"/>, dy with row stride F.</summary>
    public static void SwiGluBackward(int threads, float* gate, float* up, float* dy, float* dgate, float* dup, int n, int F, int stride) =>
        Runs(threads, n, F, stride, (i, j, len, s) =>
        {
            float* g = gate + j, u = up + j, d = dy + i, dg = dgate + j, du = dup + j;
            var one = Vector256.Create(1f);
            int c = 0;
            for (; c + 8 <= len; c += 8)
            {
                var sv = Vector256.Load(s + c);
                var gv = Vector256.Load(g + c);
                var dv = Vector256.Load(d + c);
                var sg = sv * (one + gv * (one - sv));
                (Vector256.Load(dg + c) + dv * Vector256.Load(u + c) * sg).Store(dg + c);
                (Vector256.Load(du + c) + dv * gv * sv).Store(du + c);
            }
            for (; c < len; c++)
            {
                float sv = s[c], gv = g[c], dv = d[c];
                dg[c] += dv * u[c] * (sv * (1f + gv * (1f - sv)));
                du[c] += dv * gv * sv;
            }
        }, gate);

    /// <summary>One run of consecutive elements within a row: output offset i, input offset j, length, and σ of the
    /// run's inputs.</summary>
    private delegate void RunBody(long i, long j, int len, float* sigma);

    /// <summary>Walks the n elements of an [n / F, F] output in fixed ranges of <see cref="HostParallel.Chunk"/>,
    /// each cut at row ends and every <see cref="Segment"/> elements into runs; for each run it computes σ of
    /// <paramref name="sigmoidOf"/>'s elements (row stride <paramref name="stride"/>) and calls
    /// <paramref name="body"/>.</summary>
    private static void Runs(int threads, int n, int F, int stride, RunBody body, float* sigmoidOf) =>
        HostParallel.ForRanges(n, HostParallel.Chunk, threads, (start, end) =>
        {
            float* s = stackalloc float[Segment];
            long i = start;
            while (i < end)
            {
                long r = i / F, col = i - r * F;
                int len = (int)Math.Min(Math.Min(F - col, end - i), Segment);
                long j = r * stride + col;
                TensorPrimitives.Sigmoid(new ReadOnlySpan<float>(sigmoidOf + j, len), new Span<float>(s, len));
                body(i, j, len, s);
                i += len;
            }
        });
}
