using System.Runtime.Intrinsics;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host path of <see cref="AdamW"/>: the kernel's update, operation by operation and with the same
/// roundings (square root and division are correctly rounded in both), eight lanes at a time, in fixed ranges
/// over the CPU threads. Both paths give the same bits.
/// </summary>
internal static unsafe class AdamWCpu
{
    public static void Step(int threads, float* p, float* g, float* m, float* v, int n, AdamW.StepScalars s, float scale) =>
        HostParallel.ForRanges(n, HostParallel.Chunk, threads, (i0, i1) => Update(p, g, m, v, i0, i1, s, scale));

    /// <summary>Updates elements [i0, i1).</summary>
    public static void Update(float* p, float* g, float* m, float* v, long i0, long i1, AdamW.StepScalars s, float scale)
    {
        var sc = Vector256.Create(scale);
        var decay = Vector256.Create(s.Decay);
        var omb1 = Vector256.Create(s.OneMinusBeta1);
        var b2 = Vector256.Create(s.Beta2);
        var omb2 = Vector256.Create(s.OneMinusBeta2);
        var bc2 = Vector256.Create(s.Bc2Sqrt);
        var eps = Vector256.Create(s.Eps);
        var step = Vector256.Create(s.NegStepSize);
        long i = i0;
        for (; i + 8 <= i1; i += 8)
        {
            var gi = Vector256.Load(g + i) * sc;
            var pi = Vector256.Load(p + i) * decay;
            var mi = Vector256.Load(m + i);
            mi += omb1 * (gi - mi);
            var vi = Vector256.Load(v + i) * b2 + omb2 * gi * gi;
            var denom = Vector256.Sqrt(vi) / bc2 + eps;
            mi.Store(m + i);
            vi.Store(v + i);
            (pi + step * mi / denom).Store(p + i);
        }
        for (; i < i1; i++)
        {
            float gi = g[i] * scale;
            float pi = p[i] * s.Decay;
            float mi = m[i];
            mi += s.OneMinusBeta1 * (gi - mi);
            float vi = v[i] * s.Beta2 + s.OneMinusBeta2 * gi * gi;
            float denom = MathF.Sqrt(vi) / s.Bc2Sqrt + s.Eps;
            m[i] = mi;
            v[i] = vi;
            p[i] = pi + s.NegStepSize * mi / denom;
        }
    }
}
