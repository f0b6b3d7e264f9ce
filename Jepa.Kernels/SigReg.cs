using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Jepa.Kernels;

/// <summary>
/// SIGReg, the sketched isotropic Gaussian regulariser of LeJEPA (Balestriero &amp; LeCun, arXiv 2511.08544), on
/// embeddings already projected onto M unit directions: p [N, M] (column m holds the N samples of slice m).
/// For each slice the Epps–Pulley statistic compares the empirical characteristic function
/// φ̂_m(t) = (1/N) Σ_n e^{i t p_nm} with the standard normal's φ(t) = e^{−t²/2}:
/// <code>
///   stat_m = N · Σ_j a_j · w_j · |φ̂_m(t_j) − φ(t_j)|²,    w_j = e^{−t_j²/2},
///   loss   = (1/M) Σ_m stat_m,
/// </code>
/// over <see cref="Knots"/> knots t_j evenly spaced on [−<see cref="TMax"/>, <see cref="TMax"/>] with trapezoid weights
/// a_j (LeJEPA's reference grid: 17 knots on [−5, 5]). It is small when every slice looks N(0, 1) and grows when the
/// embeddings collapse (all samples equal: |φ̂| = 1) or spread too far. Backward:
/// <code>
///   ∂loss/∂p_nm = (2/M) Σ_j a_j w_j t_j · ( Im φ̂_m(t_j) · cos(t_j p_nm) − (Re φ̂_m(t_j) − w_j) · sin(t_j p_nm) )
/// </code>
/// from the saved φ̂ [M, Knots, 2]. Deterministic: each slice (forward) and each element (backward) has one owner that
/// sums in a fixed order; the mean over slices is one ordered sum. No atomics.
/// </summary>
public sealed class SigReg
{
    /// <summary>Knots of the integration grid.</summary>
    public const int Knots = 17;

    /// <summary>The grid spans [−TMax, TMax].</summary>
    public const float TMax = 5f;

    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    public SigReg(KernelCache kernels) => _k = kernels;

    /// <summary>Floats of the saved characteristic function for <paramref name="M"/> slices.</summary>
    public static int SavedLength(int M) => M * Knots * 2;

    /// <summary>Knot j of the grid.</summary>
    public static float Knot(int j) => -TMax + 2f * TMax * j / (Knots - 1);

    /// <summary>The trapezoid weight of knot j.</summary>
    public static float Trapezoid(int j) => (j == 0 || j == Knots - 1 ? 0.5f : 1f) * (2f * TMax / (Knots - 1));

    /// <summary>stat[m] = the Epps–Pulley statistic of slice m; loss[0] = their mean; cf = φ̂ for the backward.</summary>
    public void Forward(ArrayView<float> p, ArrayView<float> cf, ArrayView<float> stat, ArrayView<float> loss, int N, int M)
    {
        const string op = "SigReg";
        Check.Positive(op, (nameof(N), N), (nameof(M), M));
        Check.Length(op, nameof(p), p, (long)N * M);
        Check.Length(op, nameof(cf), cf, SavedLength(M));
        Check.Length(op, nameof(stat), stat, M);
        Check.Length(op, nameof(loss), loss, 1);
        var g = _k.Device.Geometry;
        _k.Get("SigReg.Forward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (g.Threads(M), g.PerThread(M), N, M, p, cf, stat);
        _k.Get("SigReg.Mean", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>>(MeanKernel))
            (1, M, stat, loss);
    }

    /// <summary>dp += dloss · ∂loss/∂p, from p and the forward's saved <paramref name="cf"/>.</summary>
    public void Backward(ArrayView<float> p, ArrayView<float> cf, ArrayView<float> dp, int N, int M, float dloss = 1f)
    {
        const string op = "SigRegBackward";
        int n = Check.Positive(op, (nameof(N), N), (nameof(M), M));
        Check.Length(op, nameof(p), p, n);
        Check.Length(op, nameof(cf), cf, SavedLength(M));
        Check.Length(op, nameof(dp), dp, n);
        var g = _k.Device.Geometry;
        _k.Get("SigReg.Backward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel))
            (g.Threads(n), g.PerThread(n), n, M, dloss * 2f / M, p, cf, dp);
    }

    private static void ForwardKernel(Index1D t, int per, int N, int M, ArrayView<float> p, ArrayView<float> cf, ArrayView<float> stat)
    {
        for (int m = Chunk.Start(t, per), e = Chunk.End(t, per, M); m < e; m++)
        {
            float s = 0f;
            for (int j = 0; j < Knots; j++)
            {
                float tj = Knot(j), re = 0f, im = 0f;
                for (int n = 0; n < N; n++)
                {
                    float x = tj * p[(long)n * M + m];
                    re += XMath.Cos(x);
                    im += XMath.Sin(x);
                }
                re /= N;
                im /= N;
                long at = ((long)m * Knots + j) * 2;
                cf[at] = re;
                cf[at + 1] = im;
                float w = XMath.Exp(-0.5f * tj * tj), dr = re - w;
                s += Trapezoid(j) * w * (dr * dr + im * im);
            }
            stat[m] = s * N;
        }
    }

    private static void MeanKernel(Index1D t, int M, ArrayView<float> stat, ArrayView<float> loss)
    {
        float s = 0f;
        for (int m = 0; m < M; m++) s += stat[m];
        loss[0] = s / M;
    }

    private static void BackwardKernel(Index1D t, int per, int n, int M, float scale, ArrayView<float> p, ArrayView<float> cf, ArrayView<float> dp)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            int m = i % M;
            float x = p[i], g = 0f;
            for (int j = 0; j < Knots; j++)
            {
                float tj = Knot(j), w = XMath.Exp(-0.5f * tj * tj);
                long at = ((long)m * Knots + j) * 2;
                float re = cf[at], im = cf[at + 1];
                g += Trapezoid(j) * w * tj * (im * XMath.Cos(tj * x) - (re - w) * XMath.Sin(tj * x));
            }
            dp[i] += scale * g;
        }
    }
}
