namespace Jepa.Bench;

/// <summary>State bytes a benchmarked op must move per element (reads plus writes), for the GB/s column.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BytesPerElementAttribute(int bytes) : Attribute
{
    /// <summary>Bytes per element.</summary>
    public int Bytes { get; } = bytes;
}
