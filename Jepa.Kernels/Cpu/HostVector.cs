using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// Row reductions for the host paths with a summation order that depends only on the length: four 8-lane
/// accumulators over blocks of 32 elements (element i of a block goes to accumulator i / 8, lane i mod 8), one
/// more pass of 8-lane blocks into the first accumulator, the accumulators added as ((a0 + a1) + (a2 + a3)),
/// the lanes added by a fixed tree, then the remaining elements one by one. Unaligned loads, so the address
/// of the data never changes a result. Products are rounded before they are added (no fused multiply-add),
/// as in the kernels.
/// </summary>
internal static unsafe class HostVector
{
    /// <summary>Σ x[i].</summary>
    public static float Sum(float* x, int n)
    {
        var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            a0 += Vector256.Load(x + i); a1 += Vector256.Load(x + i + 8);
            a2 += Vector256.Load(x + i + 16); a3 += Vector256.Load(x + i + 24);
        }
        for (; i + 8 <= n; i += 8) a0 += Vector256.Load(x + i);
        float s = Lanes((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += x[i];
        return s;
    }

    /// <summary>Σ x[i]².</summary>
    public static float SumOfSquares(float* x, int n)
    {
        var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var v0 = Vector256.Load(x + i); var v1 = Vector256.Load(x + i + 8);
            var v2 = Vector256.Load(x + i + 16); var v3 = Vector256.Load(x + i + 24);
            a0 += v0 * v0; a1 += v1 * v1; a2 += v2 * v2; a3 += v3 * v3;
        }
        for (; i + 8 <= n; i += 8) { var v = Vector256.Load(x + i); a0 += v * v; }
        float s = Lanes((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += x[i] * x[i];
        return s;
    }

    /// <summary>Σ a[i]·b[i].</summary>
    public static float Dot(float* a, float* b, int n)
    {
        var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            a0 += Vector256.Load(a + i) * Vector256.Load(b + i);
            a1 += Vector256.Load(a + i + 8) * Vector256.Load(b + i + 8);
            a2 += Vector256.Load(a + i + 16) * Vector256.Load(b + i + 16);
            a3 += Vector256.Load(a + i + 24) * Vector256.Load(b + i + 24);
        }
        for (; i + 8 <= n; i += 8) a0 += Vector256.Load(a + i) * Vector256.Load(b + i);
        float s = Lanes((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Σ (a[i]·b[i])·c[i].</summary>
    public static float Dot3(float* a, float* b, float* c, int n)
    {
        var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            a0 += Vector256.Load(a + i) * Vector256.Load(b + i) * Vector256.Load(c + i);
            a1 += Vector256.Load(a + i + 8) * Vector256.Load(b + i + 8) * Vector256.Load(c + i + 8);
            a2 += Vector256.Load(a + i + 16) * Vector256.Load(b + i + 16) * Vector256.Load(c + i + 16);
            a3 += Vector256.Load(a + i + 24) * Vector256.Load(b + i + 24) * Vector256.Load(c + i + 24);
        }
        for (; i + 8 <= n; i += 8) a0 += Vector256.Load(a + i) * Vector256.Load(b + i) * Vector256.Load(c + i);
        float s = Lanes((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += a[i] * b[i] * c[i];
        return s;
    }

    /// <summary>max x[i] (−∞ for n = 0; a NaN element makes the result NaN).</summary>
    public static float Max(float* x, int n)
    {
        float m = float.NegativeInfinity;
        int i = 0;
        if (n >= 8)
        {
            var v = Vector256.Load(x);
            var nan = Vector256<float>.Zero;
            for (i = 8; i + 8 <= n; i += 8)
            {
                var u = Vector256.Load(x + i);
                nan |= ~Vector256.Equals(u, u);
                v = Vector256.Max(v, u);
            }
            nan |= ~Vector256.Equals(v, v);
            if (nan != Vector256<float>.Zero) return float.NaN;
            for (int l = 0; l < 8; l++) m = MathF.Max(m, v.GetElement(l));
        }
        for (; i < n; i++) m = MathF.Max(m, x[i]);
        return m;
    }

    /// <summary>The 8 lanes of <paramref name="v"/> added as ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Lanes(Vector256<float> v)
    {
        var h = v.GetLower() + v.GetUpper();
        var q = h.GetLower() + h.GetUpper();
        return q.GetElement(0) + q.GetElement(1);
    }
}
