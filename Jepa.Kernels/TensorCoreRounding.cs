namespace Jepa.Kernels;

/// <summary>
/// The input roundings of the tensor-core products, bit for bit as the GPU does them: <c>cvt.rna.tf32.f32</c> (TF32: 10
/// mantissa bits, to nearest, ties away from zero) and <c>cvt.rn.bf16x2.f32</c> (BF16: 7 mantissa bits, to nearest, ties to
/// even). The kernels of <see cref="TensorCoreMatMul"/> round with these same functions (integer arithmetic, no inline PTX),
/// and so does <see cref="Cpu.TensorCoreEmulator"/>.
/// </summary>
public static class TensorCoreRounding
{
    /// <summary>The TF32 bits of x (a float32 pattern whose low 13 mantissa bits are zero); NaN and infinities pass through.</summary>
    public static uint Tf32Bits(float x)
    {
        uint bits = (uint)ILGPU.Interop.FloatAsInt(x);
        if ((bits & 0x7F800000u) == 0x7F800000u) return bits;
        return (bits + 0x1000u) & 0xFFFFE000u; // half a TF32 ulp added to the magnitude, then truncated: ties away from zero
    }

    /// <summary>x rounded to TF32.</summary>
    public static float Tf32(float x) => ILGPU.Interop.IntAsFloat(Tf32Bits(x));

    /// <summary>The BF16 bits of x (its upper 16 bits after rounding to nearest, ties to even); a NaN stays a (quiet) NaN.</summary>
    public static uint Bf16Bits(float x)
    {
        uint bits = (uint)ILGPU.Interop.FloatAsInt(x);
        if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0) return (bits >> 16) | 0x40u;
        return (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    }

    /// <summary>x rounded to BF16, as a float.</summary>
    public static float Bf16(float x) => ILGPU.Interop.IntAsFloat(Bf16Bits(x) << 16);

    /// <summary>Two BF16 values in one 32-bit register as <c>mma.sync</c> reads a pair: <paramref name="lo"/> in the low half.</summary>
    public static uint Bf16Pair(float lo, float hi) => Bf16Bits(lo) | (Bf16Bits(hi) << 16);
}
