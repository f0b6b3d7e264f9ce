using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The vector building blocks of <see cref="AttentionCpu"/>: Vector256 with fused multiply-adds. Every
/// output element is one FMA chain in a fixed order, whichever block variant computes it, so results depend
/// only on the inputs (not on how a call is split into blocks or threads).
/// </summary>
internal static unsafe class AttentionCpuSimd
{
    /// <summary>Floats per vector.</summary>
    public const int W = 8;

    /// <summary><paramref name="n"/> rounded up to a whole number of vectors.</summary>
    public static int Pad(int n) => (n + W - 1) / W * W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    /// <summary>
    /// Dot products of up to four rows with the columns of a transposed matrix:
    /// s[r·sStride + j] = Σ_d a_r[d] · bt[d·btStride + j] for r &lt; 4 and j &lt; n (a multiple of 8), with
    /// a_r = a + r·aStride for r &lt; <paramref name="rows"/>; lines r ≥ rows get row 0's products (scratch).
    /// Each element is one FMA chain over d ascending.
    /// </summary>
    public static void Dots(float* a, long aStride, int rows, float* bt, long btStride, int n, int D, float* s, int sStride)
    {
        float* a0 = a;
        float* a1 = rows > 1 ? a + aStride : a;
        float* a2 = rows > 2 ? a + 2 * aStride : a;
        float* a3 = rows > 3 ? a + 3 * aStride : a;
        float* s0 = s, s1 = s + sStride, s2 = s + 2 * sStride, s3 = s + 3 * sStride;
        int j = 0;
        for (; j + 2 * W <= n; j += 2 * W)
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
            float* b = bt + j;
            for (int d = 0; d < D; d++, b += btStride)
            {
                var b0 = Vector256.Load(b);
                var b1 = Vector256.Load(b + W);
                var x = Vector256.Create(a0[d]);
                c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
                x = Vector256.Create(a1[d]);
                c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
                x = Vector256.Create(a2[d]);
                c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
                x = Vector256.Create(a3[d]);
                c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            }
            c00.Store(s0 + j); c01.Store(s0 + j + W);
            c10.Store(s1 + j); c11.Store(s1 + j + W);
            c20.Store(s2 + j); c21.Store(s2 + j + W);
            c30.Store(s3 + j); c31.Store(s3 + j + W);
        }
        if (j < n)
        {
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
            float* b = bt + j;
            for (int d = 0; d < D; d++, b += btStride)
            {
                var b0 = Vector256.Load(b);
                c0 = Fma(Vector256.Create(a0[d]), b0, c0);
                c1 = Fma(Vector256.Create(a1[d]), b0, c1);
                c2 = Fma(Vector256.Create(a2[d]), b0, c2);
                c3 = Fma(Vector256.Create(a3[d]), b0, c3);
            }
            c0.Store(s0 + j); c1.Store(s1 + j); c2.Store(s2 + j); c3.Store(s3 + j);
        }
    }

    /// <summary>
    /// acc[d] += Σ w[j] · src[j·stride + d] over j in [j0, j1) with w[j] ≠ 0, for d &lt; D: per element one FMA
    /// chain continuing from acc[d], j ascending. Rows whose weight is zero are not read.
    /// </summary>
    public static void WeightedRowSum(float* w, int j0, int j1, float* src, long stride, int D, float* acc)
    {
        int d = 0;
        for (; d + 8 * W <= D; d += 8 * W) Block8(w, j0, j1, src + d, stride, acc + d);
        for (; d + 4 * W <= D; d += 4 * W) Block4(w, j0, j1, src + d, stride, acc + d);
        for (; d + W <= D; d += W) Block1(w, j0, j1, src + d, stride, acc + d);
        for (; d < D; d++)
        {
            float c = acc[d];
            float* row = src + j0 * stride + d;
            for (int j = j0; j < j1; j++, row += stride)
                if (w[j] != 0f) c = MathF.FusedMultiplyAdd(w[j], *row, c);
            acc[d] = c;
        }
    }

    /// <summary>
    /// <see cref="WeightedRowSum"/> for <paramref name="rows"/> rows at once: acc_r[d] += Σ w_r[j] · src[j·stride + d]
    /// over j in [j0, j1), with w_r = w + r·wStride and acc_r = acc + r·accStride. Four rows share each loaded row of
    /// src (16 columns at a time, eight accumulators); a j whose four weights are all zero is skipped, and a zero
    /// weight of one row adds 0·src, which leaves that row's sum unchanged for finite src, so each element is
    /// the same FMA chain as <see cref="WeightedRowSum"/>'s. Fewer than four rows go row by row.
    /// </summary>
    public static void WeightedRowSums(float* w, int wStride, int rows, int j0, int j1, float* src, long stride, int D, float* acc, int accStride)
    {
        if (rows != 4)
        {
            for (int r = 0; r < rows; r++) WeightedRowSum(w + r * wStride, j0, j1, src, stride, D, acc + r * accStride);
            return;
        }
        float* w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride;
        float* a0 = acc, a1 = acc + accStride, a2 = acc + 2 * accStride, a3 = acc + 3 * accStride;
        int d = 0;
        for (; d + 2 * W <= D; d += 2 * W)
        {
            var c00 = Vector256.Load(a0 + d); var c01 = Vector256.Load(a0 + d + W);
            var c10 = Vector256.Load(a1 + d); var c11 = Vector256.Load(a1 + d + W);
            var c20 = Vector256.Load(a2 + d); var c21 = Vector256.Load(a2 + d + W);
            var c30 = Vector256.Load(a3 + d); var c31 = Vector256.Load(a3 + d + W);
            float* row = src + j0 * stride + d;
            for (int j = j0; j < j1; j++, row += stride)
            {
                float x0 = w0[j], x1 = w1[j], x2 = w2[j], x3 = w3[j];
                if (x0 == 0f && x1 == 0f && x2 == 0f && x3 == 0f) continue;
                var v0 = Vector256.Load(row); var v1 = Vector256.Load(row + W);
                var x = Vector256.Create(x0); c00 = Fma(x, v0, c00); c01 = Fma(x, v1, c01);
                x = Vector256.Create(x1); c10 = Fma(x, v0, c10); c11 = Fma(x, v1, c11);
                x = Vector256.Create(x2); c20 = Fma(x, v0, c20); c21 = Fma(x, v1, c21);
                x = Vector256.Create(x3); c30 = Fma(x, v0, c30); c31 = Fma(x, v1, c31);
            }
            c00.Store(a0 + d); c01.Store(a0 + d + W);
            c10.Store(a1 + d); c11.Store(a1 + d + W);
            c20.Store(a2 + d); c21.Store(a2 + d + W);
            c30.Store(a3 + d); c31.Store(a3 + d + W);
        }
        if (d < D)
        {
            // The last D mod 16 columns, row by row.
            for (int r = 0; r < 4; r++) WeightedRowSum(w + r * wStride, j0, j1, src + d, stride, D - d, acc + r * accStride + d);
        }
    }

    private static void Block8(float* w, int j0, int j1, float* src, long stride, float* acc)
    {
        var c0 = Vector256.Load(acc); var c1 = Vector256.Load(acc + W);
        var c2 = Vector256.Load(acc + 2 * W); var c3 = Vector256.Load(acc + 3 * W);
        var c4 = Vector256.Load(acc + 4 * W); var c5 = Vector256.Load(acc + 5 * W);
        var c6 = Vector256.Load(acc + 6 * W); var c7 = Vector256.Load(acc + 7 * W);
        float* row = src + j0 * stride;
        for (int j = j0; j < j1; j++, row += stride)
        {
            float wj = w[j];
            if (wj == 0f) continue;
            var x = Vector256.Create(wj);
            c0 = Fma(x, Vector256.Load(row), c0); c1 = Fma(x, Vector256.Load(row + W), c1);
            c2 = Fma(x, Vector256.Load(row + 2 * W), c2); c3 = Fma(x, Vector256.Load(row + 3 * W), c3);
            c4 = Fma(x, Vector256.Load(row + 4 * W), c4); c5 = Fma(x, Vector256.Load(row + 5 * W), c5);
            c6 = Fma(x, Vector256.Load(row + 6 * W), c6); c7 = Fma(x, Vector256.Load(row + 7 * W), c7);
        }
        c0.Store(acc); c1.Store(acc + W); c2.Store(acc + 2 * W); c3.Store(acc + 3 * W);
        c4.Store(acc + 4 * W); c5.Store(acc + 5 * W); c6.Store(acc + 6 * W); c7.Store(acc + 7 * W);
    }

    private static void Block4(float* w, int j0, int j1, float* src, long stride, float* acc)
    {
        var c0 = Vector256.Load(acc); var c1 = Vector256.Load(acc + W);
        var c2 = Vector256.Load(acc + 2 * W); var c3 = Vector256.Load(acc + 3 * W);
        float* row = src + j0 * stride;
        for (int j = j0; j < j1; j++, row += stride)
        {
            float wj = w[j];
            if (wj == 0f) continue;
            var x = Vector256.Create(wj);
            c0 = Fma(x, Vector256.Load(row), c0); c1 = Fma(x, Vector256.Load(row + W), c1);
            c2 = Fma(x, Vector256.Load(row + 2 * W), c2); c3 = Fma(x, Vector256.Load(row + 3 * W), c3);
        }
        c0.Store(acc); c1.Store(acc + W); c2.Store(acc + 2 * W); c3.Store(acc + 3 * W);
    }

    private static void Block1(float* w, int j0, int j1, float* src, long stride, float* acc)
    {
        var c0 = Vector256.Load(acc);
        float* row = src + j0 * stride;
        for (int j = j0; j < j1; j++, row += stride)
        {
            float wj = w[j];
            if (wj != 0f) c0 = Fma(Vector256.Create(wj), Vector256.Load(row), c0);
        }
        c0.Store(acc);
    }

    /// <summary>dst[d·Tp + t] = src[t·srcStride + d] for t &lt; T, d &lt; D, and 0 for T ≤ t &lt; Tp; 8×8 blocks
    /// through AVX registers where they fit (a copy either way, so the result does not depend on it).</summary>
    public static void Transpose(float* src, long srcStride, int T, int D, float* dst, int Tp)
    {
        int t0 = 0;
        if (Avx.IsSupported)
        {
            for (; t0 + W <= T; t0 += W)
            {
                int d0 = 0;
                for (; d0 + W <= D; d0 += W)
                {
                    float* s = src + t0 * srcStride + d0;
                    var r0 = Vector256.Load(s); var r1 = Vector256.Load(s + srcStride);
                    var r2 = Vector256.Load(s + 2 * srcStride); var r3 = Vector256.Load(s + 3 * srcStride);
                    var r4 = Vector256.Load(s + 4 * srcStride); var r5 = Vector256.Load(s + 5 * srcStride);
                    var r6 = Vector256.Load(s + 6 * srcStride); var r7 = Vector256.Load(s + 7 * srcStride);
                    MatMulCpuPack.Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
                    float* d = dst + (long)d0 * Tp + t0;
                    r0.Store(d); r1.Store(d + Tp); r2.Store(d + 2L * Tp); r3.Store(d + 3L * Tp);
                    r4.Store(d + 4L * Tp); r5.Store(d + 5L * Tp); r6.Store(d + 6L * Tp); r7.Store(d + 7L * Tp);
                }
                for (; d0 < D; d0++)
                    for (int t = t0; t < t0 + W; t++) dst[(long)d0 * Tp + t] = src[t * srcStride + d0];
            }
        }
        for (int t = t0; t < T; t++)
        {
            float* row = src + t * srcStride;
            for (int d = 0; d < D; d++) dst[(long)d * Tp + t] = row[d];
        }
        for (int d = 0; d < D; d++)
            for (int t = T; t < Tp; t++) dst[(long)d * Tp + t] = 0f;
    }

    /// <summary>The largest lane of <paramref name="v"/>.</summary>
    public static float MaxLane(Vector256<float> v)
    {
        float m = v.GetElement(0);
        for (int l = 1; l < W; l++) m = MathF.Max(m, v.GetElement(l));
        return m;
    }
}
