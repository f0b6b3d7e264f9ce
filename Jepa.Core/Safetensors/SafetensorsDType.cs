namespace Jepa.Core.Safetensors;

/// <summary>The element types of the safetensors format, named as they appear in a header.</summary>
public enum SafetensorsDType
{
    /// <summary>Boolean, one byte.</summary>
    BOOL,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>8-bit float with 4 exponent and 3 mantissa bits.</summary>
    F8_E4M3,
    /// <summary>8-bit float with 5 exponent and 2 mantissa bits.</summary>
    F8_E5M2,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>IEEE 754 half precision (<see cref="System.Half"/>).</summary>
    F16,
    /// <summary>bfloat16: the upper 16 bits of a float32.</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>IEEE 754 single precision.</summary>
    F32,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
    /// <summary>IEEE 754 double precision.</summary>
    F64,
}

/// <summary>Sizes and header names of <see cref="SafetensorsDType"/> values.</summary>
public static class SafetensorsDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ByteSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8
            or SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E5M2 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.I64 or SafetensorsDType.U64 or SafetensorsDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>The name written in a header, e.g. <c>"BF16"</c>.</summary>
    public static string Name(this SafetensorsDType dtype) => dtype.ToString();

    /// <summary>Every name a header may use, for error messages.</summary>
    public static string KnownNames => string.Join(", ", Enum.GetNames<SafetensorsDType>());

    /// <summary>Parses a header dtype name (exact, case-sensitive, as the format defines it).</summary>
    public static bool TryParse(string name, out SafetensorsDType dtype)
    {
        foreach (var d in Enum.GetValues<SafetensorsDType>())
        {
            if (string.Equals(d.ToString(), name, StringComparison.Ordinal))
            {
                dtype = d;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>Whether <see cref="SafetensorsReader.ReadFloat32(string, Span{float}, bool)"/> can convert this dtype.</summary>
    public static bool IsReadableAsFloat32(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64;

    /// <summary>Whether the integer readers (<see cref="SafetensorsReader.ReadInt64(string, Span{long})"/>,
    /// <see cref="SafetensorsReader.ReadInt32(string, Span{int})"/>) can convert this dtype.</summary>
    public static bool IsReadableAsInteger(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.I64 or SafetensorsDType.I32 or SafetensorsDType.I16 or SafetensorsDType.I8
            or SafetensorsDType.U8 or SafetensorsDType.U16 or SafetensorsDType.U32 or SafetensorsDType.U64;
}
