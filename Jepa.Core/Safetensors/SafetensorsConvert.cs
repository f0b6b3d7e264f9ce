using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Jepa.Core.Safetensors;

/// <summary>Element conversions between little-endian safetensors bytes and host numbers.</summary>
internal static class SafetensorsConvert
{
    /// <summary>Widens or narrows <paramref name="source"/> (elements of <paramref name="dtype"/>) into float32.</summary>
    public static void ToFloat32(SafetensorsDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        int n = destination.Length;
        switch (dtype)
        {
            case SafetensorsDType.F32:
                if (BitConverter.IsLittleEndian) source[..(4 * n)].CopyTo(MemoryMarshal.AsBytes(destination));
                else for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                break;
            case SafetensorsDType.BF16:
                Bf16ToFloat32(source[..(2 * n)], destination);
                break;
            case SafetensorsDType.F16:
                for (int i = 0; i < n; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                break;
            case SafetensorsDType.F64:
                for (int i = 0; i < n; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                break;
            default:
                throw new ArgumentException($"dtype {dtype} has no float32 conversion.", nameof(dtype));
        }
    }

    private static void Bf16ToFloat32(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int n = destination.Length, i = 0;
        if (BitConverter.IsLittleEndian && Vector.IsHardwareAccelerated)
        {
            // Widen 16-bit patterns to 32 bits and shift them into the upper half: exact.
            var src = MemoryMarshal.Cast<byte, ushort>(source);
            var dst = MemoryMarshal.Cast<float, uint>(destination);
            int w = Vector<ushort>.Count;
            for (; i <= n - w; i += w)
            {
                Vector.Widen(new Vector<ushort>(src[i..]), out Vector<uint> lo, out Vector<uint> hi);
                (lo << 16).CopyTo(dst[i..]);
                (hi << 16).CopyTo(dst[(i + w / 2)..]);
            }
        }
        for (; i < n; i++) destination[i] = Bf16.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]));
    }

    /// <summary>Element <paramref name="i"/> of an integer tensor's bytes, widened to 64 bits.</summary>
    /// <exception cref="OverflowException">A U64 element exceeds <see cref="long.MaxValue"/>.</exception>
    public static long IntegerAt(SafetensorsDType dtype, ReadOnlySpan<byte> source, int i) => dtype switch
    {
        SafetensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(source[(8 * i)..]),
        SafetensorsDType.U64 => checked((long)BinaryPrimitives.ReadUInt64LittleEndian(source[(8 * i)..])),
        SafetensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]),
        SafetensorsDType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]),
        SafetensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(source[(2 * i)..]),
        SafetensorsDType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]),
        SafetensorsDType.I8 => (sbyte)source[i],
        SafetensorsDType.U8 => source[i],
        _ => throw new ArgumentException($"dtype {dtype} is not an integer type.", nameof(dtype)),
    };

    /// <summary>Encodes float32 values as <paramref name="dtype"/> (F32 exactly; F16 and BF16 round to nearest even).</summary>
    public static void FromFloat32(SafetensorsDType dtype, ReadOnlySpan<float> source, Span<byte> destination)
    {
        int n = source.Length;
        switch (dtype)
        {
            case SafetensorsDType.F32:
                if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(source).CopyTo(destination);
                else for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * i)..], source[i]);
                break;
            case SafetensorsDType.BF16:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], Bf16.FromSingle(source[i]));
                break;
            case SafetensorsDType.F16:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteHalfLittleEndian(destination[(2 * i)..], (Half)source[i]);
                break;
            default:
                throw new ArgumentException($"Cannot write float32 data as {dtype}; use F32, F16 or BF16.", nameof(dtype));
        }
    }
}
