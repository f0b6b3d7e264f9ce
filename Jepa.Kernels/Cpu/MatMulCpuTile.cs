using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Jepa.Kernels.Cpu;

/// <summary>One term of a dot product in the micro-tile: <c>a·b + c</c>, fused or not.</summary>
internal interface IMulAdd
{
    /// <summary>Returns <c>a·b + c</c> per lane.</summary>
    static abstract Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c);
}

/// <summary><c>a·b + c</c> rounded once (FMA3).</summary>
internal readonly struct FusedMulAdd : IMulAdd
{
    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
}

/// <summary><c>a·b + c</c> as a multiply then an add (rounded twice, like the scalar tile).</summary>
internal readonly struct SeparateMulAdd : IMulAdd
{
    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => a * b + c;
}

/// <summary>
/// The register-blocked micro-tile of the host matrix product: a <see cref="MR"/>×<see cref="NR"/> block of
/// C accumulated over <c>kc</c> packed terms (A sliver: <c>MR</c> values per k, B sliver: <c>NR</c> values per
/// k). The accumulators start from zero or from a saved partial block, so a sum over K split into several
/// blocks is bitwise the same chain of multiply-adds as one unsplit sum. The result is either saved raw
/// (a partial sum) or finished into C as <c>α·acc + β·C</c> (C not read when β = 0), with the same
/// multiply, multiply, add in the vector and scalar code.
/// </summary>
internal static unsafe class MatMulCpuTile
{
    /// <summary>Rows of the micro-tile.</summary>
    public const int MR = 6;

    /// <summary>Columns of the micro-tile (two Vector256).</summary>
    public const int NR = 16;

    /// <summary>Runs one micro-tile with the instruction set <paramref name="simd"/>.</summary>
    /// <param name="simd">Which implementation.</param>
    /// <param name="kc">Number of k terms.</param>
    /// <param name="ap">Packed A sliver, <c>kc·MR</c> floats.</param>
    /// <param name="bp">Packed B sliver, <c>kc·NR</c> floats, 32-byte aligned.</param>
    /// <param name="src">Saved partial block to continue from (row stride <paramref name="lds"/>), or null to start at zero.</param>
    /// <param name="lds">Row stride of <paramref name="src"/>.</param>
    /// <param name="dst">Where the block goes (row stride <paramref name="ldd"/>), a full MR×NR block.</param>
    /// <param name="ldd">Row stride of <paramref name="dst"/>.</param>
    /// <param name="raw">True: store the accumulators as they are; false: <c>dst = α·acc + β·dst</c>.</param>
    /// <param name="alpha">α.</param>
    /// <param name="beta">β (dst is not read when 0).</param>
    public static void Run(MatMulSimd simd, int kc, float* ap, float* bp, float* src, long lds, float* dst, long ldd, bool raw, float alpha, float beta)
    {
        switch (simd)
        {
            case MatMulSimd.Fma: Vector<FusedMulAdd>(kc, ap, bp, src, lds, dst, ldd, raw, alpha, beta); break;
            case MatMulSimd.Vector: Vector<SeparateMulAdd>(kc, ap, bp, src, lds, dst, ldd, raw, alpha, beta); break;
            default: Scalar(kc, ap, bp, src, lds, dst, ldd, raw, alpha, beta); break;
        }
    }

    /// <summary>Finishes the top-left <paramref name="rows"/>×<paramref name="cols"/> of a raw block
    /// <paramref name="acc"/> (row stride NR) into C: <c>C = α·acc + β·C</c>. For edge tiles.</summary>
    public static void FinishEdge(float* acc, float* c, long ldc, int rows, int cols, float alpha, float beta)
    {
        for (int r = 0; r < rows; r++, acc += NR, c += ldc)
            for (int j = 0; j < cols; j++) c[j] = Finish(acc[j], c[j], alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(float acc, float c, float alpha, float beta)
    {
        float v = alpha * acc;
        if (beta != 0f) v += beta * c;
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector<T>(int kc, float* ap, float* bp, float* src, long lds, float* dst, long ldd, bool raw, float alpha, float beta)
        where T : struct, IMulAdd
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (src == null)
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }
        else
        {
            c00 = Vector256.Load(src); c01 = Vector256.Load(src + 8); src += lds;
            c10 = Vector256.Load(src); c11 = Vector256.Load(src + 8); src += lds;
            c20 = Vector256.Load(src); c21 = Vector256.Load(src + 8); src += lds;
            c30 = Vector256.Load(src); c31 = Vector256.Load(src + 8); src += lds;
            c40 = Vector256.Load(src); c41 = Vector256.Load(src + 8); src += lds;
            c50 = Vector256.Load(src); c51 = Vector256.Load(src + 8);
        }
        for (int k = 0; k < kc; k++, ap += MR, bp += NR)
        {
            var b0 = Vector256.LoadAligned(bp);
            var b1 = Vector256.LoadAligned(bp + 8);
            var a = Vector256.Create(ap[0]);
            c00 = T.MulAdd(a, b0, c00); c01 = T.MulAdd(a, b1, c01);
            a = Vector256.Create(ap[1]);
            c10 = T.MulAdd(a, b0, c10); c11 = T.MulAdd(a, b1, c11);
            a = Vector256.Create(ap[2]);
            c20 = T.MulAdd(a, b0, c20); c21 = T.MulAdd(a, b1, c21);
            a = Vector256.Create(ap[3]);
            c30 = T.MulAdd(a, b0, c30); c31 = T.MulAdd(a, b1, c31);
            a = Vector256.Create(ap[4]);
            c40 = T.MulAdd(a, b0, c40); c41 = T.MulAdd(a, b1, c41);
            a = Vector256.Create(ap[5]);
            c50 = T.MulAdd(a, b0, c50); c51 = T.MulAdd(a, b1, c51);
        }
        Store(c00, c01, dst, raw, alpha, beta); dst += ldd;
        Store(c10, c11, dst, raw, alpha, beta); dst += ldd;
        Store(c20, c21, dst, raw, alpha, beta); dst += ldd;
        Store(c30, c31, dst, raw, alpha, beta); dst += ldd;
        Store(c40, c41, dst, raw, alpha, beta); dst += ldd;
        Store(c50, c51, dst, raw, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> lo, Vector256<float> hi, float* d, bool raw, float alpha, float beta)
    {
        if (!raw)
        {
            var al = Vector256.Create(alpha);
            lo *= al;
            hi *= al;
            if (beta != 0f)
            {
                var be = Vector256.Create(beta);
                lo += be * Vector256.Load(d);
                hi += be * Vector256.Load(d + 8);
            }
        }
        lo.Store(d);
        hi.Store(d + 8);
    }

    private static void Scalar(int kc, float* ap, float* bp, float* src, long lds, float* dst, long ldd, bool raw, float alpha, float beta)
    {
        float* acc = stackalloc float[MR * NR];
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++) acc[r * NR + j] = src == null ? 0f : src[r * lds + j];
        for (int k = 0; k < kc; k++, ap += MR, bp += NR)
            for (int r = 0; r < MR; r++)
            {
                float a = ap[r];
                float* row = acc + r * NR;
                for (int j = 0; j < NR; j++) row[j] = a * bp[j] + row[j];
            }
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
            {
                float* d = dst + r * ldd + j;
                *d = raw ? acc[r * NR + j] : Finish(acc[r * NR + j], *d, alpha, beta);
            }
    }
}
