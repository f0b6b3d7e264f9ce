using ILGPU;

namespace Jepa.Kernels;

/// <summary>
/// The 16 head dimensions one lane of an attention row team holds in registers (dims lane, lane + R,
/// lane + 2R, … of a row split over R lanes). Written out field by field because ILGPU keeps structure
/// fields in registers but puts indexed local arrays in (slow) local memory, and it does not unroll
/// loops. Every sum runs in field order, so results are reproducible. Used inside kernels only.
/// </summary>
internal struct LaneVector
{
    /// <summary>Dimensions held per lane: the number of fields.</summary>
    public const int Length = 16;

    public float V0, V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13, V14, V15;

    /// <summary>Element c = src[start + c·stride]·mul for c &lt; count, else 0.</summary>
    public static LaneVector Load(ArrayView<float> src, long start, int stride, int count, float mul)
    {
        LaneVector r;
        r.V0 = 0 < count ? src[start + 0 * stride] * mul : 0f;
        r.V1 = 1 < count ? src[start + 1 * stride] * mul : 0f;
        r.V2 = 2 < count ? src[start + 2 * stride] * mul : 0f;
        r.V3 = 3 < count ? src[start + 3 * stride] * mul : 0f;
        r.V4 = 4 < count ? src[start + 4 * stride] * mul : 0f;
        r.V5 = 5 < count ? src[start + 5 * stride] * mul : 0f;
        r.V6 = 6 < count ? src[start + 6 * stride] * mul : 0f;
        r.V7 = 7 < count ? src[start + 7 * stride] * mul : 0f;
        r.V8 = 8 < count ? src[start + 8 * stride] * mul : 0f;
        r.V9 = 9 < count ? src[start + 9 * stride] * mul : 0f;
        r.V10 = 10 < count ? src[start + 10 * stride] * mul : 0f;
        r.V11 = 11 < count ? src[start + 11 * stride] * mul : 0f;
        r.V12 = 12 < count ? src[start + 12 * stride] * mul : 0f;
        r.V13 = 13 < count ? src[start + 13 * stride] * mul : 0f;
        r.V14 = 14 < count ? src[start + 14 * stride] * mul : 0f;
        r.V15 = 15 < count ? src[start + 15 * stride] * mul : 0f;
        return r;
    }

    /// <summary>dst[start + c·stride] = V_c·mul for c &lt; count.</summary>
    public readonly void Store(ArrayView<float> dst, long start, int stride, int count, float mul)
    {
        if (0 < count) dst[start + 0 * stride] = V0 * mul;
        if (1 < count) dst[start + 1 * stride] = V1 * mul;
        if (2 < count) dst[start + 2 * stride] = V2 * mul;
        if (3 < count) dst[start + 3 * stride] = V3 * mul;
        if (4 < count) dst[start + 4 * stride] = V4 * mul;
        if (5 < count) dst[start + 5 * stride] = V5 * mul;
        if (6 < count) dst[start + 6 * stride] = V6 * mul;
        if (7 < count) dst[start + 7 * stride] = V7 * mul;
        if (8 < count) dst[start + 8 * stride] = V8 * mul;
        if (9 < count) dst[start + 9 * stride] = V9 * mul;
        if (10 < count) dst[start + 10 * stride] = V10 * mul;
        if (11 < count) dst[start + 11 * stride] = V11 * mul;
        if (12 < count) dst[start + 12 * stride] = V12 * mul;
        if (13 < count) dst[start + 13 * stride] = V13 * mul;
        if (14 < count) dst[start + 14 * stride] = V14 * mul;
        if (15 < count) dst[start + 15 * stride] = V15 * mul;
    }

    /// <summary>dst[start + c·stride] += V_c·mul for c &lt; count.</summary>
    public readonly void AddTo(ArrayView<float> dst, long start, int stride, int count, float mul)
    {
        if (0 < count) dst[start + 0 * stride] += V0 * mul;
        if (1 < count) dst[start + 1 * stride] += V1 * mul;
        if (2 < count) dst[start + 2 * stride] += V2 * mul;
        if (3 < count) dst[start + 3 * stride] += V3 * mul;
        if (4 < count) dst[start + 4 * stride] += V4 * mul;
        if (5 < count) dst[start + 5 * stride] += V5 * mul;
        if (6 < count) dst[start + 6 * stride] += V6 * mul;
        if (7 < count) dst[start + 7 * stride] += V7 * mul;
        if (8 < count) dst[start + 8 * stride] += V8 * mul;
        if (9 < count) dst[start + 9 * stride] += V9 * mul;
        if (10 < count) dst[start + 10 * stride] += V10 * mul;
        if (11 < count) dst[start + 11 * stride] += V11 * mul;
        if (12 < count) dst[start + 12 * stride] += V12 * mul;
        if (13 < count) dst[start + 13 * stride] += V13 * mul;
        if (14 < count) dst[start + 14 * stride] += V14 * mul;
        if (15 < count) dst[start + 15 * stride] += V15 * mul;
    }

    /// <summary>Σ_c V_c·tile[off + c·stride], summed in field order.</summary>
    public readonly float Dot(ArrayView<float> tile, int off, int stride)
    {
        float s = V0 * tile[off];
        s += V1 * tile[off + 1 * stride];
        s += V2 * tile[off + 2 * stride];
        s += V3 * tile[off + 3 * stride];
        s += V4 * tile[off + 4 * stride];
        s += V5 * tile[off + 5 * stride];
        s += V6 * tile[off + 6 * stride];
        s += V7 * tile[off + 7 * stride];
        s += V8 * tile[off + 8 * stride];
        s += V9 * tile[off + 9 * stride];
        s += V10 * tile[off + 10 * stride];
        s += V11 * tile[off + 11 * stride];
        s += V12 * tile[off + 12 * stride];
        s += V13 * tile[off + 13 * stride];
        s += V14 * tile[off + 14 * stride];
        s += V15 * tile[off + 15 * stride];
        return s;
    }

    /// <summary>Σ_c V_c·other.V_c, summed in field order.</summary>
    public readonly float Dot(in LaneVector other)
    {
        float s = V0 * other.V0;
        s += V1 * other.V1;
        s += V2 * other.V2;
        s += V3 * other.V3;
        s += V4 * other.V4;
        s += V5 * other.V5;
        s += V6 * other.V6;
        s += V7 * other.V7;
        s += V8 * other.V8;
        s += V9 * other.V9;
        s += V10 * other.V10;
        s += V11 * other.V11;
        s += V12 * other.V12;
        s += V13 * other.V13;
        s += V14 * other.V14;
        s += V15 * other.V15;
        return s;
    }

    /// <summary>V_c += a·tile[off + c·stride].</summary>
    public void Axpy(float a, ArrayView<float> tile, int off, int stride)
    {
        V0 += a * tile[off + 0 * stride];
        V1 += a * tile[off + 1 * stride];
        V2 += a * tile[off + 2 * stride];
        V3 += a * tile[off + 3 * stride];
        V4 += a * tile[off + 4 * stride];
        V5 += a * tile[off + 5 * stride];
        V6 += a * tile[off + 6 * stride];
        V7 += a * tile[off + 7 * stride];
        V8 += a * tile[off + 8 * stride];
        V9 += a * tile[off + 9 * stride];
        V10 += a * tile[off + 10 * stride];
        V11 += a * tile[off + 11 * stride];
        V12 += a * tile[off + 12 * stride];
        V13 += a * tile[off + 13 * stride];
        V14 += a * tile[off + 14 * stride];
        V15 += a * tile[off + 15 * stride];
    }

    /// <summary>V_c *= a.</summary>
    public void Scale(float a)
    {
        V0 *= a;
        V1 *= a;
        V2 *= a;
        V3 *= a;
        V4 *= a;
        V5 *= a;
        V6 *= a;
        V7 *= a;
        V8 *= a;
        V9 *= a;
        V10 *= a;
        V11 *= a;
        V12 *= a;
        V13 *= a;
        V14 *= a;
        V15 *= a;
    }
}
