using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Jepa.Core.Safetensors;

/// <summary>
/// Writes named float32 tensors as one safetensors file, atomically: the file is written to a
/// temporary name in the same directory, flushed to disk, then renamed over the destination, so a
/// failure at any point leaves an existing file as it was and no temporary file behind.
/// Tensors are stored in ordinal name order, contiguously; the header is padded with spaces so the
/// data section starts at a multiple of 8 bytes.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Bytes converted and written per slice.</summary>
    private const int SliceElements = 1 << 14;

    private sealed record Entry(string Name, int[] Shape, long Count, Func<ReadOnlyMemory<float>> Data);

    /// <summary>Writes host tensors to <paramref name="path"/>.</summary>
    /// <param name="path">The destination; replaced atomically if it exists.</param>
    /// <param name="tensors">The tensors by name.</param>
    /// <param name="metadata">Written as <c>__metadata__</c> when not empty.</param>
    /// <param name="dtype">The stored type: F32 (exact), BF16 or F16 (rounded to nearest even).</param>
    /// <param name="allowNonFinite">Write NaNs and infinities too; by default a tensor holding one is refused, so that a
    /// diverged model never replaces a good file.</param>
    /// <exception cref="ArgumentException">A name is empty or <c>__metadata__</c>, or <paramref name="dtype"/> is not F32, BF16 or F16.</exception>
    /// <exception cref="InvalidDataException">A tensor holds a NaN or an infinity (without <paramref name="allowNonFinite"/>); the
    /// message names it, and the file at <paramref name="path"/> keeps its previous content.</exception>
    public static void Write(string path, IReadOnlyDictionary<string, HostTensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, SafetensorsDType dtype = SafetensorsDType.F32, bool allowNonFinite = false)
    {
        var entries = tensors.Select(kv => new Entry(kv.Key, kv.Value.ShapeArray, kv.Value.Data.Length, () => kv.Value.Data));
        WriteEntries(path, entries, metadata, dtype, allowNonFinite);
    }

    /// <summary>Writes device tensors to <paramref name="path"/>, copying one tensor at a time to the host.</summary>
    /// <inheritdoc cref="Write(string, IReadOnlyDictionary{string, HostTensor}, IReadOnlyDictionary{string, string}?, SafetensorsDType, bool)"/>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, SafetensorsDType dtype = SafetensorsDType.F32, bool allowNonFinite = false)
    {
        var entries = tensors.Select(kv => new Entry(kv.Key, kv.Value.Shape.ToArray(), kv.Value.Length, () => kv.Value.ToArray()));
        WriteEntries(path, entries, metadata, dtype, allowNonFinite);
    }

    private static void WriteEntries(string path, IEnumerable<Entry> unordered, IReadOnlyDictionary<string, string>? metadata, SafetensorsDType dtype,
        bool allowNonFinite)
    {
        if (dtype is not (SafetensorsDType.F32 or SafetensorsDType.BF16 or SafetensorsDType.F16))
            throw new ArgumentException($"Cannot write float32 tensors as {dtype}; use F32, BF16 or F16.", nameof(dtype));
        var entries = unordered.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        foreach (var e in entries)
            if (e.Name.Length == 0 || e.Name == SafetensorsHeader.MetadataKey)
                throw new ArgumentException($"'{e.Name}' cannot name a tensor in a safetensors file.", "tensors");

        byte[] header = Header(entries, metadata, dtype);
        string full = Path.GetFullPath(path);
        AtomicFile.Write(full, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            WriteData(stream, full, entries, dtype, allowNonFinite);
        }, bufferSize: 1 << 16);
    }

    /// <summary>The JSON header, padded with spaces so that 8 + its length is a multiple of 8.</summary>
    private static byte[] Header(List<Entry> entries, IReadOnlyDictionary<string, string>? metadata, SafetensorsDType dtype)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            int size = dtype.ByteSize();
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", dtype.Name());
                json.WriteStartArray("shape");
                foreach (int d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset = checked(offset + e.Count * size);
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteData(FileStream stream, string path, List<Entry> entries, SafetensorsDType dtype, bool allowNonFinite)
    {
        int size = dtype.ByteSize();
        var bytes = ArrayPool<byte>.Shared.Rent(SliceElements * size);
        try
        {
            foreach (var e in entries)
            {
                var data = e.Data().Span;
                if (data.Length != e.Count)
                    throw new InvalidDataException($"{path}: tensor '{e.Name}' has {data.Length} elements, but its header promised {e.Count}.");
                for (int i = 0; i < data.Length; i += SliceElements)
                {
                    int m = Math.Min(SliceElements, data.Length - i);
                    if (!allowNonFinite && NonFinite.IndexIn(data.Slice(i, m)) is int bad and >= 0)
                        throw new InvalidDataException($"{path}: tensor '{e.Name}' holds {data[i + bad]} at element {i + bad}; a non-finite tensor is not written (the file keeps its previous content).");
                    SafetensorsConvert.FromFloat32(dtype, data.Slice(i, m), bytes.AsSpan(0, m * size));
                    stream.Write(bytes, 0, m * size);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
