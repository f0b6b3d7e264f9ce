using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace Jepa.Core.Safetensors;

/// <summary>
/// One safetensors file, memory-mapped read-only: the header is parsed and validated on
/// <see cref="Open"/>, and tensor bytes are converted straight from the mapping on each read.
/// </summary>
public sealed unsafe class SafetensorsFile : SafetensorsReader
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private readonly List<SafetensorsTensorInfo> _tensors;
    private readonly Dictionary<string, string> _metadata;
    private byte* _base;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer,
        long length, long dataStart, List<SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Source = path;
        _map = map;
        _view = view;
        _base = basePointer;
        Length = length;
        DataStart = dataStart;
        _tensors = tensors;
        _metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>
    /// Maps a safetensors file and validates its header: the 8-byte length prefix, the JSON, and every
    /// tensor's dtype, shape and offsets against the file's size (no overlaps, nothing past the end).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message names the file
    /// and, where one is at fault, the tensor and its offsets.</exception>
    public static new SafetensorsFile Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        byte* p = null;
        try
        {
            long length = stream.Length;
            if (length < 8)
                throw new InvalidDataException($"{path}: the file is {length} bytes long, shorter than the 8-byte header length; not a safetensors file.");
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            byte* start = p + view.PointerOffset;

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(start, 8));
            if (headerLength > (ulong)(length - 8))
                throw new InvalidDataException(
                    $"{path}: the header length {headerLength} (file bytes [0, 8)) runs past the end of the file: only {length - 8} bytes follow it.");
            if (headerLength > SafetensorsHeader.MaxHeaderBytes)
                throw new InvalidDataException($"{path}: the header length {headerLength} exceeds the format's limit of {SafetensorsHeader.MaxHeaderBytes} bytes.");

            var json = new ReadOnlySpan<byte>(start + 8, (int)headerLength).ToArray();
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = SafetensorsHeader.Parse(path, json, dataStart, length - dataStart);
            return new SafetensorsFile(path, map, view, start, length, dataStart, tensors, metadata);
        }
        catch
        {
            if (p != null) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The full path of the file.</summary>
    public override string Source { get; }

    /// <summary>The file's size in bytes.</summary>
    public long Length { get; }

    /// <summary>The file offset where the data section begins (8 + header length).</summary>
    public long DataStart { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <inheritdoc />
    public override IReadOnlyList<SafetensorsTensorInfo> Tensors => _tensors;

    /// <inheritdoc />
    public override bool Contains(string name) => _byName.ContainsKey(name);

    private protected override SafetensorsFile Locate(string name) =>
        _byName.ContainsKey(name) ? this : throw MissingTensor(name);

    internal SafetensorsTensorInfo InfoOf(string name) =>
        _byName.TryGetValue(name, out var info) ? info : throw MissingTensor(name);

    /// <summary><paramref name="length"/> bytes of the data section from <paramref name="offset"/> (validated by the header check).</summary>
    internal ReadOnlySpan<byte> Bytes(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return new ReadOnlySpan<byte>(_base + DataStart + offset, length);
    }

    /// <summary>Unmaps the file.</summary>
    public override void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
