using System.Runtime.Intrinsics;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host path of <see cref="JepaDistance"/>'s pairwise distances (cosine, L2, MSE, and the cosine
/// similarity): per row the four sums p·t, ‖p‖², ‖t‖², ‖p − t‖² in one pass, in an order fixed by C (eight-lane
/// partial sums, lanes added by <see cref="HostVector.Lanes"/>, then the tail), and the kernels' formulas for the
/// per-pair values and the gradients. Rows in fixed blocks over the CPU threads.
/// </summary>
internal static unsafe class JepaDistanceCpu
{
    /// <summary>pairs[i] = the pair value of <paramref name="mode"/> (a <c>JepaDistance.Mode…</c> constant).</summary>
    public static void Pairs(int threads, int mode, float* p, float* t, float* pairs, int B, int C, float eps) =>
        HostParallel.ForRanges(B, Math.Max(1, HostParallel.Chunk / C), threads, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                var (dot, pp, tt, dd) = Stats(p + r * C, t + r * C, C);
                pairs[r] = mode switch
                {
                    JepaDistance.ModeCosineLoss => 1f - ClampedCosine(dot, pp, tt, eps),
                    JepaDistance.ModeL2 => MathF.Sqrt(dd),
                    JepaDistance.ModeMse => dd / C,
                    _ => ClampedCosine(dot, pp, tt, eps),
                };
            }
        });

    /// <summary>dp += scale·∂pair/∂p and, when <paramref name="dt"/> is not null, dt += scale·∂pair/∂t.</summary>
    public static void Grad(int threads, int mode, float* p, float* t, float* dp, float* dt, int B, int C, float eps, float scale) =>
        HostParallel.ForRanges(B, Math.Max(1, HostParallel.Chunk / C), threads, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                float* pr = p + r * C, tr = t + r * C, dpr = dp + r * C, dtr = dt == null ? null : dt + r * C;
                var (dot, pp, tt, dd) = Stats(pr, tr, C);
                float den = MathF.Sqrt(pp) * MathF.Sqrt(tt), cos = dot / den, l2 = MathF.Sqrt(dd);
                for (int c = 0; c < C; c++)
                {
                    float a = pr[c], b = tr[c], gp, gt;
                    if (mode == JepaDistance.ModeCosineLoss)
                    {
                        if (den > eps)
                        {
                            gp = cos * a / pp - b / den;
                            gt = cos * b / tt - a / den;
                        }
                        else
                        {
                            gp = -b / eps;
                            gt = -a / eps;
                        }
                    }
                    else if (mode == JepaDistance.ModeL2)
                    {
                        gp = l2 > 0f ? (a - b) / l2 : 0f;
                        gt = -gp;
                    }
                    else
                    {
                        gp = 2f * (a - b) / C;
                        gt = -gp;
                    }
                    dpr[c] += scale * gp;
                    if (dtr != null) dtr[c] += scale * gt;
                }
            }
        });

    private static float ClampedCosine(float dot, float pp, float tt, float eps)
    {
        float den = MathF.Sqrt(pp) * MathF.Sqrt(tt);
        return dot / (den > eps ? den : eps);
    }

    /// <summary>(p·t, ‖p‖², ‖t‖², ‖p − t‖²) of one row.</summary>
    private static (float Dot, float Pp, float Tt, float Dd) Stats(float* p, float* t, int C)
    {
        var dot = Vector256<float>.Zero; var pp = dot; var tt = dot; var dd = dot;
        int c = 0;
        for (; c + 8 <= C; c += 8)
        {
            var a = Vector256.Load(p + c); var b = Vector256.Load(t + c); var d = a - b;
            dot += a * b; pp += a * a; tt += b * b; dd += d * d;
        }
        float sDot = HostVector.Lanes(dot), sPp = HostVector.Lanes(pp), sTt = HostVector.Lanes(tt), sDd = HostVector.Lanes(dd);
        for (; c < C; c++)
        {
            float a = p[c], b = t[c], d = a - b;
            sDot += a * b; sPp += a * a; sTt += b * b; sDd += d * d;
        }
        return (sDot, sPp, sTt, sDd);
    }
}
