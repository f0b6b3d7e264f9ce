using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Jepa.Core;

/// <summary>
/// Philox4x32-10 on the host's SIMD units: eight consecutive blocks (one per 32-bit lane of a
/// <see cref="Vector256{T}"/>) go through the ten rounds together, the 32×32→64-bit products coming from
/// <see cref="Avx2.Multiply(Vector256{uint}, Vector256{uint})"/> on the even and the odd lanes. Every word is
/// bitwise the one <see cref="Philox.Block"/> gives for the same (seed, stream, index), whatever the vector width,
/// the alignment of the first index or whether AVX2 exists (without it, and for ragged ends, the scalar
/// <see cref="Philox.Block"/> runs). Counters carry into their high word as in the scalar generator, so ranges
/// may cross multiples of 2^32.
/// </summary>
public static class PhiloxSimd
{
    private const uint M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;

    /// <summary>Whether <see cref="Block8"/> and <see cref="Words32"/> can run (AVX2 is supported); when false,
    /// <see cref="Blocks"/> falls back to the scalar generator.</summary>
    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>
    /// The blocks <paramref name="index"/> … <paramref name="index"/> + 7 (wrapping modulo 2^64) of stream
    /// <paramref name="stream"/> under key <paramref name="seed"/>: lane j of <paramref name="r0"/> … <paramref name="r3"/>
    /// holds the outputs r0 … r3 of <see cref="Philox.Block"/>(seed, stream, index + j). Requires <see cref="IsSupported"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block8(ulong seed, ulong stream, ulong index,
        out Vector256<uint> r0, out Vector256<uint> r1, out Vector256<uint> r2, out Vector256<uint> r3)
    {
        if (!Avx2.IsSupported) throw new PlatformNotSupportedException("PhiloxSimd.Block8 needs AVX2.");
        uint lo = (uint)index, hi = (uint)(index >> 32);
        var c0 = Vector256.Create(lo) + Vector256.Create(0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u);
        // lanes whose low word wrapped past 2^32 carry one into the high word (the mask is all ones, i.e. −1)
        var c1 = Vector256.Create(hi) - Vector256.LessThan(c0, Vector256.Create(lo));
        var c2 = Vector256.Create((uint)stream);
        var c3 = Vector256.Create((uint)(stream >> 32));
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        var m0 = Vector256.Create(M0);
        var m1 = Vector256.Create(M1);
        for (int i = 0; i < 10; i++)
        {
            MulHiLo(c0, m0, out var hi0, out var lo0);
            MulHiLo(c2, m1, out var hi1, out var lo1);
            var n0 = hi1 ^ c1 ^ Vector256.Create(k0);
            var n2 = hi0 ^ c3 ^ Vector256.Create(k1);
            c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
            k0 += W0; k1 += W1;
        }
        r0 = c0; r1 = c1; r2 = c2; r3 = c3;
    }

    /// <summary>
    /// The 32 words of blocks <paramref name="index"/> … <paramref name="index"/> + 7 in the order a scalar loop over
    /// <see cref="Philox.Block"/> would write them (block by block, r0 … r3 within a block): <paramref name="w0"/> holds
    /// blocks index and index + 1, <paramref name="w1"/> blocks index + 2 and + 3, <paramref name="w2"/> blocks + 4 and + 5,
    /// <paramref name="w3"/> blocks + 6 and + 7. Word 4·j + l thus serves element 4·(index + j) + l of a mask that draws one
    /// block per four elements. Requires <see cref="IsSupported"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Words32(ulong seed, ulong stream, ulong index,
        out Vector256<uint> w0, out Vector256<uint> w1, out Vector256<uint> w2, out Vector256<uint> w3)
    {
        Block8(seed, stream, index, out var r0, out var r1, out var r2, out var r3);
        // 4×4 transposes inside each 128-bit half, then the halves regrouped
        var t0 = Avx2.UnpackLow(r0, r1);   // r0b0 r1b0 r0b1 r1b1 | b4 b5
        var t1 = Avx2.UnpackHigh(r0, r1);  // r0b2 r1b2 r0b3 r1b3 | b6 b7
        var t2 = Avx2.UnpackLow(r2, r3);
        var t3 = Avx2.UnpackHigh(r2, r3);
        var u0 = Avx2.UnpackLow(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();   // b0 | b4
        var u1 = Avx2.UnpackHigh(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();  // b1 | b5
        var u2 = Avx2.UnpackLow(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();   // b2 | b6
        var u3 = Avx2.UnpackHigh(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();  // b3 | b7
        w0 = Avx2.Permute2x128(u0, u1, 0x20);
        w1 = Avx2.Permute2x128(u2, u3, 0x20);
        w2 = Avx2.Permute2x128(u0, u1, 0x31);
        w3 = Avx2.Permute2x128(u2, u3, 0x31);
    }

    /// <summary>
    /// Fills <paramref name="words"/> with the outputs of consecutive blocks from <paramref name="firstIndex"/> on:
    /// words[4·j + l] is output l of <see cref="Philox.Block"/>(seed, stream, firstIndex + j). A length that is not a
    /// multiple of four ends with the first words of a block. Eight blocks at a time when <see cref="IsSupported"/>,
    /// the rest (or everything, without AVX2) by the scalar generator.
    /// </summary>
    public static void Blocks(ulong seed, ulong stream, ulong firstIndex, Span<uint> words)
    {
        int w = 0;
        ulong index = firstIndex;
        if (Avx2.IsSupported)
        {
            ref uint dst = ref MemoryMarshal.GetReference(words);
            for (; w + 32 <= words.Length; w += 32, index += 8)
            {
                Words32(seed, stream, index, out var w0, out var w1, out var w2, out var w3);
                w0.StoreUnsafe(ref dst, (nuint)w);
                w1.StoreUnsafe(ref dst, (nuint)(w + 8));
                w2.StoreUnsafe(ref dst, (nuint)(w + 16));
                w3.StoreUnsafe(ref dst, (nuint)(w + 24));
            }
        }
        for (; w < words.Length; index++)
        {
            Philox.Block(seed, stream, index, out uint r0, out uint r1, out uint r2, out uint r3);
            words[w++] = r0;
            if (w < words.Length) words[w++] = r1;
            if (w < words.Length) words[w++] = r2;
            if (w < words.Length) words[w++] = r3;
        }
    }

    /// <summary>The high and low 32 bits of the eight products a·b (lane by lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MulHiLo(Vector256<uint> a, Vector256<uint> b, out Vector256<uint> hi, out Vector256<uint> lo)
    {
        var even = Avx2.Multiply(a, b).AsUInt32();                                                  // lo0 hi0 lo2 hi2 …
        var odd = Avx2.Multiply(Avx2.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), b).AsUInt32(); // lo1 hi1 lo3 hi3 …
        lo = Avx2.Blend(even, Avx2.ShiftLeftLogical(odd.AsUInt64(), 32).AsUInt32(), 0b1010_1010);
        hi = Avx2.Blend(Avx2.ShiftRightLogical(even.AsUInt64(), 32).AsUInt32(), odd, 0b1010_1010);
    }
}
