namespace Jepa.Core;

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
/// generator whose output is a pure function of (seed, stream, index). The same numbers come out on the
/// host, on the CPU accelerator and on GPUs, whatever the thread count or launch order.
/// Every method is static and allocation-free, so kernels can call it.
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;

    /// <summary>The four 32-bit words of block (<paramref name="stream"/>, <paramref name="index"/>) under key <paramref name="seed"/>.</summary>
    public static void Block(ulong seed, ulong stream, ulong index, out uint r0, out uint r1, out uint r2, out uint r3)
    {
        uint c0 = (uint)index, c1 = (uint)(index >> 32), c2 = (uint)stream, c3 = (uint)(stream >> 32);
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int i = 0; i < 10; i++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n1 = (uint)p1;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            uint n3 = (uint)p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += W0; k1 += W1;
        }
        r0 = c0; r1 = c1; r2 = c2; r3 = c3;
    }

    /// <summary>32 random bits for (seed, stream, index).</summary>
    public static uint Bits(ulong seed, ulong stream, ulong index)
    {
        Block(seed, stream, index, out uint r0, out _, out _, out _);
        return r0;
    }

    /// <summary>A uniform float in [0, 1) with 24 random bits.</summary>
    public static float Uniform(ulong seed, ulong stream, ulong index) =>
        (Bits(seed, stream, index) >> 8) * (1.0f / 16777216.0f);

    /// <summary>A standard normal float (Box–Muller over two words of one block).</summary>
    public static float Normal(ulong seed, ulong stream, ulong index)
    {
        Block(seed, stream, index, out uint a, out uint b, out _, out _);
        float u1 = ((a >> 8) + 1) * (1.0f / 16777217.0f); // (0, 1]
        float u2 = (b >> 8) * (1.0f / 16777216.0f);
        return MathF.Sqrt(-2f * MathF.Log(u1)) * MathF.Cos(2f * MathF.PI * u2);
    }

    /// <summary>Fills <paramref name="destination"/> with uniforms in [lo, hi): element i uses index <paramref name="offset"/> + i.</summary>
    public static void FillUniform(Span<float> destination, ulong seed, ulong stream, float lo = 0f, float hi = 1f, ulong offset = 0)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = lo + (hi - lo) * Uniform(seed, stream, offset + (ulong)i);
    }

    /// <summary>Fills <paramref name="destination"/> with normals of the given mean and standard deviation.</summary>
    public static void FillNormal(Span<float> destination, ulong seed, ulong stream, float mean = 0f, float std = 1f, ulong offset = 0)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = mean + std * Normal(seed, stream, offset + (ulong)i);
    }

    /// <summary>A uniform integer in [0, n) for (seed, stream, index), without modulo bias worth noticing for n ≪ 2^32.</summary>
    public static int NextInt(ulong seed, ulong stream, ulong index, int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Range must be positive.");
        return (int)(((ulong)Bits(seed, stream, index) * (ulong)n) >> 32);
    }
}
