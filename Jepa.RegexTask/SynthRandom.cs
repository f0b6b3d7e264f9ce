using Jepa.Core;

namespace Jepa.RegexTask;

/// <summary>A sequence of Philox draws for one (seed, stream): draw j is block (seed, stream, j).</summary>
internal struct SynthRandom(ulong seed, ulong stream)
{
    private ulong index;

    /// <summary>A uniform integer in [0, n).</summary>
    public int Next(int n) => Philox.NextInt(seed, stream, index++, n);

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble()
    {
        Philox.Block(seed, stream, index++, out uint a, out uint b, out _, out _);
        return (((ulong)a << 21) ^ (b >> 11)) * (1.0 / (1UL << 53));
    }
}
