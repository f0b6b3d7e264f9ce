namespace Jepa.Core.Safetensors;

/// <summary>
/// bfloat16 conversions. A bfloat16 is the upper 16 bits of a float32 (sign, 8 exponent bits,
/// 7 mantissa bits), so widening is exact and narrowing rounds the dropped 16 bits.
/// </summary>
public static class Bf16
{
    /// <summary>The float32 a bfloat16 bit pattern stands for (exact).</summary>
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>
    /// The bfloat16 nearest to <paramref name="value"/>, ties to even (as PyTorch rounds);
    /// overflow gives infinity, and NaN stays a (quiet) NaN with its sign.
    /// </summary>
    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFF_FFFFu) > 0x7F80_0000u) return (ushort)((u >> 16) | 0x0040u);
        u += 0x7FFFu + ((u >> 16) & 1u);
        return (ushort)(u >> 16);
    }
}
