using Jepa.Core;

namespace Jepa.Tests.Support;

/// <summary>Random inputs and float64 comparisons for op tests.</summary>
public static class Reference
{
    /// <summary>Uniform floats in [lo, hi) from the counter-based RNG.</summary>
    public static float[] Random(int n, ulong seed, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        Philox.FillUniform(a, seed, stream: 7, lo, hi);
        return a;
    }

    public static double[] ToDouble(float[] a) => Array.ConvertAll(a, x => (double)x);

    /// <summary>‖actual − expected‖ / max(‖expected‖, tiny); fails on any NaN or infinity.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.True(float.IsFinite(actual[i]), $"element {i} is {actual[i]}");
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        return Math.Sqrt(num) / Math.Max(Math.Sqrt(den), 1e-30);
    }

    /// <summary>Asserts the relative error is below <paramref name="tol"/> (NaN never passes).</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double tol, string what)
    {
        double err = RelativeError(actual, expected);
        Assert.True(err < tol, $"{what}: relative error {err:E3} exceeds {tol:E1}");
    }

    /// <summary>Asserts two arrays are bitwise identical.</summary>
    public static void AssertBitwiseEqual(ReadOnlySpan<float> a, ReadOnlySpan<float> b, string what)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(a[i]) == BitConverter.SingleToInt32Bits(b[i]),
                $"{what}: element {i} differs ({a[i]:R} vs {b[i]:R})");
    }
}
