namespace Jepa.Core.Safetensors;

/// <summary>One tensor's header entry: name, element type, shape and where its bytes lie.</summary>
public sealed class SafetensorsTensorInfo
{
    private readonly int[] _shape;

    internal SafetensorsTensorInfo(string name, SafetensorsDType dtype, int[] shape, long begin, long end, long elementCount, string file, long dataStart)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        Begin = begin;
        End = end;
        ElementCount = elementCount;
        File = file;
        DataStart = dataStart;
    }

    /// <summary>The tensor's name, e.g. <c>model.embed_tokens.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The element type stored in the file.</summary>
    public SafetensorsDType DType { get; }

    /// <summary>The dimensions, outermost first (empty for a scalar).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The shape as text, e.g. <c>[128, 64]</c>.</summary>
    public string ShapeString => "[" + string.Join(", ", _shape) + "]";

    /// <summary>Number of elements (the product of the shape; 1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>First byte, relative to the start of the data section (the header's <c>data_offsets[0]</c>).</summary>
    public long Begin { get; }

    /// <summary>One past the last byte, relative to the start of the data section (<c>data_offsets[1]</c>).</summary>
    public long End { get; }

    /// <summary>Bytes the tensor occupies.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The absolute file offset of the first byte.</summary>
    public long FileOffset => DataStart + Begin;

    /// <summary>The file that holds the tensor.</summary>
    public string File { get; }

    /// <summary>The absolute file offset of the data section (8 + header length).</summary>
    public long DataStart { get; }

    internal int[] ShapeArray => _shape;

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {DType} {ShapeString} at data bytes [{Begin}, {End})";
}
