using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Jepa.Kernels.Cpu.MatMulCpuTile;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// Packing of op(A) and op(B) blocks into the contiguous slivers the micro-tile reads
/// (<see cref="MatMulCpuTile"/>): A in slivers of <c>MR</c> rows stored k-major (<c>MR</c> values per k), B in
/// slivers of <c>NR</c> columns stored k-major (<c>NR</c> values per k). Rows and columns past the matrix are
/// packed as zeros, so edge tiles run the same micro-tile.
/// </summary>
internal static unsafe class MatMulCpuPack
{
    /// <summary>Packs rows <c>[m0, m0 + rows)</c> and k <c>[k0, k0 + kc)</c> of op(A) (op(A) is M×K, stored
    /// at <c>a</c>) into <c>dst[s·MR·kc + k·MR + r]</c> for sliver s, term k, row r. A is stored <c>[K, M]</c>
    /// when <c>trans</c> (form TN), else <c>[M, K]</c>.</summary>
    public static void A(bool trans, float* a, int M, int K, int m0, int rows, int k0, int kc, float* dst)
    {
        for (int s = 0; s < rows; s += MR, dst += MR * kc)
        {
            int h = Math.Min(MR, rows - s);
            if (trans)
            {
                // A row k holds the sliver's MR values of m side by side.
                float* src = a + (long)k0 * M + m0 + s;
                if (h == MR)
                {
                    for (int k = 0; k < kc; k++, src += M)
                    {
                        float* d = dst + k * MR;
                        Vector128.Load(src).Store(d);
                        for (int r = 4; r < MR; r++) d[r] = src[r];
                    }
                    continue;
                }
                for (int k = 0; k < kc; k++, src += M)
                {
                    float* d = dst + k * MR;
                    int r = 0;
                    for (; r < h; r++) d[r] = src[r];
                    for (; r < MR; r++) d[r] = 0f;
                }
            }
            else if (h == MR && Avx.IsSupported)
            {
                TransposeSliver6(a + (long)(m0 + s) * K + k0, K, kc, dst);
            }
            else
            {
                for (int r = 0; r < MR; r++)
                {
                    float* d = dst + r;
                    if (r < h)
                    {
                        float* src = a + (long)(m0 + s + r) * K + k0;
                        for (int k = 0; k < kc; k++) d[k * MR] = src[k];
                    }
                    else
                    {
                        for (int k = 0; k < kc; k++) d[k * MR] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>Packs k <c>[k0, k0 + kc)</c> and columns <c>[n0, n0 + cols)</c> of op(B) (op(B) is K×N, stored
    /// at <c>b</c>) into <c>dst[s·NR·kc + k·NR + j]</c> for sliver s, term k, column j. B is stored <c>[N, K]</c>
    /// when <c>trans</c> (form NT), else <c>[K, N]</c>.</summary>
    public static void B(bool trans, float* b, int N, int K, int n0, int cols, int k0, int kc, float* dst)
    {
        for (int s = 0; s < cols; s += NR, dst += NR * kc)
        {
            int w = Math.Min(NR, cols - s);
            if (trans)
            {
                if (w == NR && Avx.IsSupported) { TransposeSliver16(b + (long)(n0 + s) * K + k0, K, kc, dst); continue; }
                for (int j = 0; j < NR; j++)
                {
                    float* d = dst + j;
                    if (j < w)
                    {
                        float* src = b + (long)(n0 + s + j) * K + k0;
                        for (int k = 0; k < kc; k++) d[k * NR] = src[k];
                    }
                    else
                    {
                        for (int k = 0; k < kc; k++) d[k * NR] = 0f;
                    }
                }
            }
            else
            {
                float* src = b + (long)k0 * N + n0 + s;
                for (int k = 0; k < kc; k++, src += N)
                {
                    float* d = dst + k * NR;
                    if (w == NR)
                    {
                        Vector256.Store(Vector256.Load(src), d);
                        Vector256.Store(Vector256.Load(src + 8), d + 8);
                    }
                    else
                    {
                        int j = 0;
                        for (; j < w; j++) d[j] = src[j];
                        for (; j < NR; j++) d[j] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>Packs a full sliver of NR rows of a row-major <c>[N, K]</c> B (rows <paramref name="src"/>,
    /// stride <paramref name="ld"/>) k-major, 8×8 blocks at a time through AVX registers.</summary>
    private static void TransposeSliver16(float* src, int ld, int kc, float* dst)
    {
        int k = 0;
        for (; k + 8 <= kc; k += 8)
            for (int half = 0; half < NR; half += 8)
            {
                float* s = src + (long)half * ld + k;
                var r0 = Vector256.Load(s); var r1 = Vector256.Load(s + ld);
                var r2 = Vector256.Load(s + 2L * ld); var r3 = Vector256.Load(s + 3L * ld);
                var r4 = Vector256.Load(s + 4L * ld); var r5 = Vector256.Load(s + 5L * ld);
                var r6 = Vector256.Load(s + 6L * ld); var r7 = Vector256.Load(s + 7L * ld);
                Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
                float* d = dst + k * NR + half;
                r0.Store(d); r1.Store(d + NR); r2.Store(d + 2 * NR); r3.Store(d + 3 * NR);
                r4.Store(d + 4 * NR); r5.Store(d + 5 * NR); r6.Store(d + 6 * NR); r7.Store(d + 7 * NR);
            }
        for (; k < kc; k++)
            for (int j = 0; j < NR; j++) dst[k * NR + j] = src[(long)j * ld + k];
    }

    /// <summary>Packs a full sliver of MR = 6 rows of a row-major <c>[M, K]</c> A (rows <paramref name="src"/>,
    /// stride <paramref name="ld"/>) k-major, 8 values of k at a time through AVX registers.</summary>
    private static void TransposeSliver6(float* src, int ld, int kc, float* dst)
    {
        int k = 0;
        for (; k + 8 <= kc; k += 8)
        {
            float* s = src + k;
            var r0 = Vector256.Load(s); var r1 = Vector256.Load(s + ld);
            var r2 = Vector256.Load(s + 2L * ld); var r3 = Vector256.Load(s + 3L * ld);
            var r4 = Vector256.Load(s + 4L * ld); var r5 = Vector256.Load(s + 5L * ld);
            var r6 = Vector256<float>.Zero; var r7 = Vector256<float>.Zero;
            Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
            float* d = dst + k * MR;
            Store6(r0, d); Store6(r1, d + MR); Store6(r2, d + 2 * MR); Store6(r3, d + 3 * MR);
            Store6(r4, d + 4 * MR); Store6(r5, d + 5 * MR); Store6(r6, d + 6 * MR); Store6(r7, d + 7 * MR);
        }
        for (; k < kc; k++)
            for (int r = 0; r < MR; r++) dst[k * MR + r] = src[(long)r * ld + k];
    }

    /// <summary>Stores the first six lanes of <paramref name="v"/> (four, then two).</summary>
    private static void Store6(Vector256<float> v, float* d)
    {
        v.GetLower().Store(d);
        Sse.StoreLow(d + 4, v.GetUpper());
    }

    /// <summary>Transposes the 8×8 matrix whose rows are r0…r7, in place (AVX).</summary>
    internal static void Transpose(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
        ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        // Interleave pairs of rows, then pairs of pairs (within 128-bit lanes), then swap lanes.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        r0 = Avx.Permute2x128(u0, u4, 0x20); r1 = Avx.Permute2x128(u1, u5, 0x20);
        r2 = Avx.Permute2x128(u2, u6, 0x20); r3 = Avx.Permute2x128(u3, u7, 0x20);
        r4 = Avx.Permute2x128(u0, u4, 0x31); r5 = Avx.Permute2x128(u1, u5, 0x31);
        r6 = Avx.Permute2x128(u2, u6, 0x31); r7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}
