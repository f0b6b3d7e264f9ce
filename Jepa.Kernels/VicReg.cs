using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Jepa.Kernels;

/// <summary>
/// The variance and covariance terms of VICReg (Bardes, Ponce &amp; LeCun, 2022) on embeddings z [N, C], which keep a
/// batch of embeddings from collapsing onto one point or a few directions:
/// <code>
///   μ_c = (1/N) Σ_n z_nc,   var_c = Σ_n (z_nc − μ_c)² / (N − 1),   s_c = √(var_c + ε),
///   v = (1/C) Σ_c max(0, 1 − s_c),
///   cov_ij = Σ_n (z_ni − μ_i)(z_nj − μ_j) / (N − 1),   c = (1/C) Σ_{i≠j} cov_ij²,
///   loss = v + κ·c,   κ = <see cref="CovarianceWeight"/> (VICReg's 1 : 25 ratio of the two weights).
/// </code>
/// Backward (the mean's own gradient vanishes since Σ_n (z_nc − μ_c) = 0):
/// <code>
///   ∂loss/∂z_nk = −[s_k &lt; 1]·(z_nk − μ_k) / (C (N − 1) s_k) + κ · 4/(C (N − 1)) · Σ_{j≠k} cov_kj (z_nj − μ_j).
/// </code>
/// Deterministic: every saved statistic and every gradient element has one owner summing in a fixed order. No atomics.
/// </summary>
public sealed class VicReg
{
    /// <summary>ε inside the standard deviation (VICReg's 1e-4).</summary>
    public const float Eps = 1e-4f;

    /// <summary>κ, the covariance term's weight against the variance term's.</summary>
    public const float CovarianceWeight = 1f / 25f;

    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    public VicReg(KernelCache kernels) => _k = kernels;

    /// <summary>Floats saved for the backward: μ and s [2C], then cov [C, C].</summary>
    public static int SavedLength(int C) => 2 * C + C * C;

    /// <summary>loss[0] = v + κ·c of z [N, C]; <paramref name="saved"/> receives μ, s and cov for the backward.</summary>
    public void Forward(ArrayView<float> z, ArrayView<float> saved, ArrayView<float> loss, int N, int C)
    {
        const string op = "VicReg";
        int n = Check.Positive(op, (nameof(N), N), (nameof(C), C));
        if (N < 2) throw new ArgumentException($"{op}: the variance needs at least 2 rows, got N = {N}.", nameof(N));
        Check.Length(op, nameof(z), z, n);
        Check.Length(op, nameof(saved), saved, SavedLength(C));
        Check.Length(op, nameof(loss), loss, 1);
        var g = _k.Device.Geometry;
        _k.Get("VicReg.Stats", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(StatsKernel))
            (g.Threads(C), g.PerThread(C), N, C, z, saved);
        _k.Get("VicReg.Covariance", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(CovarianceKernel))
            (g.Threads(C * C), g.PerThread(C * C), N, C, z, saved);
        _k.Get("VicReg.Loss", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>>(LossKernel))
            (1, C, saved, loss);
    }

    /// <summary>dz += dloss · ∂loss/∂z from z and the forward's <paramref name="saved"/> statistics.</summary>
    public void Backward(ArrayView<float> z, ArrayView<float> saved, ArrayView<float> dz, int N, int C, float dloss = 1f)
    {
        const string op = "VicRegBackward";
        int n = Check.Positive(op, (nameof(N), N), (nameof(C), C));
        Check.Length(op, nameof(z), z, n);
        Check.Length(op, nameof(saved), saved, SavedLength(C));
        Check.Length(op, nameof(dz), dz, n);
        var g = _k.Device.Geometry;
        _k.Get("VicReg.Backward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel))
            (g.Threads(n), g.PerThread(n), n, N, C, dloss, z, saved, dz);
    }

    private static void StatsKernel(Index1D t, int per, int N, int C, ArrayView<float> z, ArrayView<float> saved)
    {
        for (int c = Chunk.Start(t, per), e = Chunk.End(t, per, C); c < e; c++)
        {
            float mean = 0f;
            for (int n = 0; n < N; n++) mean += z[(long)n * C + c];
            mean /= N;
            float var = 0f;
            for (int n = 0; n < N; n++)
            {
                float d = z[(long)n * C + c] - mean;
                var += d * d;
            }
            saved[c] = mean;
            saved[C + c] = XMath.Sqrt(var / (N - 1) + Eps);
        }
    }

    private static void CovarianceKernel(Index1D t, int per, int N, int C, ArrayView<float> z, ArrayView<float> saved)
    {
        for (int ij = Chunk.Start(t, per), e = Chunk.End(t, per, C * C); ij < e; ij++)
        {
            int i = ij / C, j = ij % C;
            float s = 0f;
            if (i != j)
            {
                float mi = saved[i], mj = saved[j];
                for (int n = 0; n < N; n++) s += (z[(long)n * C + i] - mi) * (z[(long)n * C + j] - mj);
                s /= N - 1;
            }
            saved[2 * C + ij] = s;
        }
    }

    private static void LossKernel(Index1D t, int C, ArrayView<float> saved, ArrayView<float> loss)
    {
        float v = 0f, c = 0f;
        for (int k = 0; k < C; k++) v += XMath.Max(0f, 1f - saved[C + k]);
        for (int ij = 0; ij < C * C; ij++)
        {
            float x = saved[2 * C + ij];
            c += x * x;
        }
        loss[0] = v / C + CovarianceWeight * c / C;
    }

    private static void BackwardKernel(Index1D t, int per, int total, int N, int C, float dloss, ArrayView<float> z, ArrayView<float> saved, ArrayView<float> dz)
    {
        for (int x = Chunk.Start(t, per), e = Chunk.End(t, per, total); x < e; x++)
        {
            int n = x / C, k = x % C;
            float sk = saved[C + k], g = 0f;
            if (sk < 1f) g -= (z[x] - saved[k]) / (C * (N - 1) * sk);
            float cov = 0f;
            for (int j = 0; j < C; j++) cov += saved[2 * C + (long)k * C + j] * (z[(long)n * C + j] - saved[j]); // cov_kk = 0
            g += CovarianceWeight * 4f / (C * (N - 1)) * cov;
            dz[x] += dloss * g;
        }
    }
}
