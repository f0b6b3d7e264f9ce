using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Jepa.Core.Safetensors;

/// <summary>Parses and validates a safetensors JSON header against the size of its data section.</summary>
internal static class SafetensorsHeader
{
    /// <summary>The key of the free-form string map in a header.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>
    /// Parses <paramref name="json"/> (the header bytes of <paramref name="file"/>) and checks every entry:
    /// known dtype, shape of non-negative int dimensions, offsets inside the data section of
    /// <paramref name="dataLength"/> bytes, byte size equal to shape × dtype size, and no two tensors overlapping.
    /// </summary>
    /// <returns>The tensors in name order and the metadata.</returns>
    /// <exception cref="InvalidDataException">Any of those checks fails; the message names the file, tensor and offsets.</exception>
    public static (List<SafetensorsTensorInfo> Tensors, Dictionary<string, string> Metadata) Parse(
        string file, byte[] json, long dataStart, long dataLength)
    {
        using (var doc = ParseJson(file, json, $"the header (file bytes [8, {8 + json.Length}))", 8))
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{file}: the header must be a JSON object, not {root.ValueKind}.");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafetensorsTensorInfo>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in root.EnumerateObject())
            {
                if (!seen.Add(prop.Name))
                    throw new InvalidDataException($"{file}: the header names '{prop.Name}' twice.");
                if (prop.Name == MetadataKey)
                    ReadMetadata(file, prop.Value, metadata);
                else
                    tensors.Add(ReadEntry(file, prop.Name, prop.Value, dataStart, dataLength));
            }

            CheckLayout(file, tensors, dataLength);
            tensors.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return (tensors, metadata);
        }
    }

    /// <summary>Parses UTF-8 JSON, turning malformed text or encoding into an error that names
    /// <paramref name="file"/>, <paramref name="what"/> and the file offset (<paramref name="origin"/> + position).</summary>
    /// <exception cref="InvalidDataException">The bytes are not valid UTF-8 or not valid JSON.</exception>
    public static JsonDocument ParseJson(string file, byte[] json, string what, long origin)
    {
        var status = Utf8.ToUtf16(json, new char[json.Length], out int read, out _, replaceInvalidSequences: false);
        if (status != OperationStatus.Done)
            throw new InvalidDataException($"{file}: {what} is not valid UTF-8 at file offset {origin + read}.");
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: {what} is not valid JSON: {e.Message}", e);
        }
    }

    private static void ReadMetadata(string file, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{file}: '{MetadataKey}' must be an object of strings, not {value.ValueKind}.");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{file}: '{MetadataKey}' entry '{m.Name}' is a {m.Value.ValueKind}, not a string.");
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ReadEntry(string file, string name, JsonElement e, long dataStart, long dataLength)
    {
        string where = $"{file}: tensor '{name}'";
        if (e.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{where}: the header entry must be an object, not {e.ValueKind}.");

        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{where}: the header entry has no string 'dtype'.");
        string dtName = dt.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtName, out var dtype))
            throw new InvalidDataException($"{where} has unknown dtype '{dtName}'; known dtypes: {SafetensorsDTypes.KnownNames}.");

        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where}: the header entry has no 'shape' array.");
        var shape = new int[sh.GetArrayLength()];
        int k = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0 || v > int.MaxValue)
                throw new InvalidDataException($"{where}: shape {sh.GetRawText()} has a dimension that is not an integer in [0, {int.MaxValue}].");
            shape[k++] = (int)v;
        }
        string shapeText = "[" + string.Join(", ", shape) + "]";

        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new InvalidDataException($"{where}: the header entry needs 'data_offsets': [begin, end].");
        long begin = OffsetAt(where, off, 0), end = OffsetAt(where, off, 1);
        if (end < begin)
            throw new InvalidDataException($"{where}: data_offsets [{begin}, {end}) end before they begin.");

        long count = 1;
        foreach (int d in shape)
        {
            if (count > long.MaxValue / Math.Max(d, 1))
                throw new InvalidDataException($"{where}: shape {shapeText} has more elements than fit in 64 bits.");
            count *= d;
        }
        int size = dtype.ByteSize();
        if (count > long.MaxValue / size || count * size != end - begin)
            throw new InvalidDataException(
                $"{where} of dtype {dtype} and shape {shapeText} needs {count} × {size} bytes, " +
                $"but its data_offsets [{begin}, {end}) span {end - begin}.");

        if (end > dataLength)
            throw new InvalidDataException(
                $"{where} needs bytes [{begin}, {end}) of the data section but the file has only {dataLength} " +
                $"(the data section starts at file offset {dataStart}; the file is {dataStart + dataLength} bytes long and may be truncated).");

        return new SafetensorsTensorInfo(name, dtype, shape, begin, end, count, file, dataStart);
    }

    private static long OffsetAt(string where, JsonElement offsets, int index)
    {
        var v = offsets[index];
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x) || x < 0)
            throw new InvalidDataException($"{where}: data_offsets {offsets.GetRawText()} must be two non-negative integers.");
        return x;
    }

    /// <summary>As the format's reference implementation requires: taken in offset order, the tensors tile the data section
    /// exactly — the first begins at 0, each begins where the one before ends (no gap, no overlap), and the last ends at the
    /// end of the file (no trailing bytes). The order of the names in the header is free.</summary>
    private static void CheckLayout(string file, List<SafetensorsTensorInfo> tensors, long dataLength)
    {
        long expected = 0;
        SafetensorsTensorInfo? previous = null;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin < expected)
                throw new InvalidDataException(
                    $"{file}: tensors '{previous!.Name}' (data bytes [{previous.Begin}, {previous.End})) and '{t.Name}' " +
                    $"(data bytes [{t.Begin}, {t.End})) overlap.");
            if (t.Begin > expected)
                throw new InvalidDataException(previous is null
                    ? $"{file}: the data section starts with {t.Begin} bytes that no tensor owns (the first, '{t.Name}', begins at {t.Begin}; a header length off by some bytes?)."
                    : $"{file}: data bytes [{expected}, {t.Begin}) between tensors '{previous.Name}' and '{t.Name}' belong to no tensor.");
            expected = t.End;
            previous = t;
        }
        if (expected != dataLength)
            throw new InvalidDataException(
                $"{file}: the data section holds {dataLength} bytes but its tensors end at {expected}: {dataLength - expected} bytes after the last tensor belong to none (a header length off by some bytes, or a damaged file?).");
    }
}
