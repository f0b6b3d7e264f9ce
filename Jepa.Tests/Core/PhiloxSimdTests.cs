using Jepa.Core;

namespace Jepa.Tests.Core;

public sealed class PhiloxSimdTests
{
    private static uint[] ScalarWords(ulong seed, ulong stream, ulong first, int count)
    {
        var w = new uint[count];
        for (int j = 0; j < count; j++)
        {
            Philox.Block(seed, stream, first + (ulong)(j >> 2), out uint r0, out uint r1, out uint r2, out uint r3);
            w[j] = (j & 3) switch { 0 => r0, 1 => r1, 2 => r2, _ => r3 };
        }
        return w;
    }

    [Fact]
    public void BlocksEqualTheScalarGeneratorOnRandomKeysAndRaggedRanges()
    {
        var rng = new Random(123);
        for (int trial = 0; trial < 200; trial++)
        {
            ulong seed = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 33);
            ulong stream = trial % 3 == 0 ? (ulong)rng.Next(8) : (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
            ulong first = (trial % 4) switch
            {
                0 => (ulong)rng.Next(1000),
                1 => 0xFFFF_FFFFul - (ulong)rng.Next(40),                 // crosses 2^32 inside a group of eight
                2 => ((ulong)rng.Next(1, 1 << 20) << 32) - (ulong)rng.Next(1, 12), // crosses k·2^32
                _ => (ulong)rng.NextInt64() | (1ul << 63),
            };
            int count = rng.Next(0, 300);                                    // ragged: any length, partial last block
            var got = new uint[count];
            PhiloxSimd.Blocks(seed, stream, first, got);
            Assert.Equal(ScalarWords(seed, stream, first, count), got);
        }
    }

    [Fact]
    public void BlocksWrapAroundTheLastCounter()
    {
        ulong first = ulong.MaxValue - 3;                                     // blocks 2^64 − 4 … 2^64 − 1, then 0 … 3
        var got = new uint[64];
        PhiloxSimd.Blocks(7, 9, first, got);
        Assert.Equal(ScalarWords(7, 9, first, 64), got);
    }

    [Fact]
    public void Block8LanesAreTheScalarBlocks()
    {
        if (!PhiloxSimd.IsSupported) return; // nothing vectorised to compare on this machine
        ulong seed = 0x243f6a8885a308d3, stream = 0x13198a2e03707344;
        foreach (ulong index in new[] { 0ul, 5ul, 0xFFFF_FFFCul, 0x1_FFFF_FFF9ul, ulong.MaxValue - 2 })
        {
            PhiloxSimd.Block8(seed, stream, index, out var r0, out var r1, out var r2, out var r3);
            for (int j = 0; j < 8; j++)
            {
                Philox.Block(seed, stream, unchecked(index + (ulong)j), out uint e0, out uint e1, out uint e2, out uint e3);
                Assert.Equal((e0, e1, e2, e3), (r0[j], r1[j], r2[j], r3[j]));
            }
        }
    }

    // The Random123 known answers again, as lane 0 of a vector of eight blocks.
    [Theory]
    [MemberData(nameof(PhiloxTests.KnownAnswers), MemberType = typeof(PhiloxTests))]
    public void MatchesRandom123KnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint e0, uint e1, uint e2, uint e3)
    {
        ulong index = c0 | ((ulong)c1 << 32), stream = c2 | ((ulong)c3 << 32), seed = k0 | ((ulong)k1 << 32);
        var w = new uint[32];
        PhiloxSimd.Blocks(seed, stream, index, w);
        Assert.Equal((e0, e1, e2, e3), (w[0], w[1], w[2], w[3]));
    }
}
