using Jepa.Core;

namespace Jepa.Tests.Core;

public sealed class PhiloxTests
{
    /// <summary>Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors):
    /// counter c0..c3, key k0 k1, expected outputs.</summary>
    public static TheoryData<uint, uint, uint, uint, uint, uint, uint, uint, uint, uint> KnownAnswers { get; } = new()
    {
        { 0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u },
        { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu },
        { 0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u },
    };

    [Theory]
    [MemberData(nameof(KnownAnswers))]
    public void MatchesRandom123KnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint e0, uint e1, uint e2, uint e3)
    {
        ulong index = c0 | ((ulong)c1 << 32), stream = c2 | ((ulong)c3 << 32), seed = k0 | ((ulong)k1 << 32);
        Philox.Block(seed, stream, index, out uint r0, out uint r1, out uint r2, out uint r3);
        Assert.Equal((e0, e1, e2, e3), (r0, r1, r2, r3));
    }

    [Fact]
    public void UniformAndNormalHaveTheRightMoments()
    {
        var u = new float[200_000]; var z = new float[200_000];
        Philox.FillUniform(u, 42, 1);
        Philox.FillNormal(z, 42, 2);
        Assert.All(u, x => Assert.InRange(x, 0f, 0.99999995f));
        Assert.InRange(u.Average(), 0.497, 0.503);
        double mean = z.Average(), var = z.Select(x => (x - mean) * (x - mean)).Average();
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(var, 0.98, 1.02);
    }

    [Fact]
    public void StreamsAndSeedsDiffer()
    {
        Assert.NotEqual(Philox.Bits(1, 0, 5), Philox.Bits(2, 0, 5));
        Assert.NotEqual(Philox.Bits(1, 0, 5), Philox.Bits(1, 1, 5));
        Assert.Equal(Philox.Bits(1, 3, 5), Philox.Bits(1, 3, 5));
    }
}
