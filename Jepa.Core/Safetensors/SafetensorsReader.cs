using System.Buffers;

namespace Jepa.Core.Safetensors;

/// <summary>
/// Reads named tensors from a safetensors checkpoint: one file (<see cref="SafetensorsFile"/>) or
/// shards listed by an index (<see cref="ShardedSafetensors"/>). Open either with <see cref="Open"/>.
/// Reads may run concurrently; dispose the reader after the last one.
/// </summary>
public abstract class SafetensorsReader : IDisposable
{
    /// <summary>The single-file checkpoint name that <see cref="Open"/> looks for in a directory.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The shard index name that <see cref="Open"/> looks for in a directory.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Elements converted per slice of the mapped file.</summary>
    private const int SliceElements = 1 << 16;

    private protected SafetensorsReader() { }

    /// <summary>
    /// Opens a checkpoint: a directory holding <c>model.safetensors</c> (preferred, as Hugging Face does)
    /// or <c>model.safetensors.index.json</c>; a shard index (<c>*.json</c>); or a <c>.safetensors</c> file.
    /// </summary>
    /// <exception cref="FileNotFoundException">The path, or a checkpoint inside the directory, or a shard does not exist.</exception>
    /// <exception cref="InvalidDataException">A header or the index is malformed; the message names the file.</exception>
    public static SafetensorsReader Open(string path)
    {
        if (Directory.Exists(path))
        {
            string single = System.IO.Path.Combine(path, SingleFileName);
            if (File.Exists(single)) return SafetensorsFile.Open(single);
            string index = System.IO.Path.Combine(path, IndexFileName);
            if (File.Exists(index)) return ShardedSafetensors.Open(index);
            var present = Directory.EnumerateFiles(path, "*.safetensors*").Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).Take(8).ToList();
            throw new FileNotFoundException(
                $"{path} holds neither {SingleFileName} nor {IndexFileName}" +
                (present.Count > 0 ? $"; it has: {string.Join(", ", present)}." : " nor any *.safetensors file."), single);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"No checkpoint at {path}.", path);
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ShardedSafetensors.Open(path) : SafetensorsFile.Open(path);
    }

    /// <summary>The file or index this reader was opened from (used in error messages).</summary>
    public abstract string Source { get; }

    /// <summary>The checkpoint's metadata (<c>__metadata__</c> of a file, <c>metadata</c> of an index).</summary>
    public abstract IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Every tensor, in ordinal name order.</summary>
    public abstract IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>Whether a tensor of this name exists.</summary>
    public abstract bool Contains(string name);

    /// <summary>The file that holds <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; see <see cref="MissingTensor"/>.</exception>
    private protected abstract SafetensorsFile Locate(string name);

    /// <summary>The header entry of a tensor.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message names the source and lists similar names.</exception>
    public SafetensorsTensorInfo Info(string name) => Locate(name).InfoOf(name);

    /// <summary>Reads a F32, F16, BF16 or F64 tensor as float32 into <paramref name="destination"/>
    /// (exact for F32, F16 and BF16).</summary>
    /// <exception cref="ArgumentException">The destination's length differs from the tensor's element count.</exception>
    /// <exception cref="InvalidDataException">The tensor's dtype is not a floating-point type, or it holds a NaN or an
    /// infinity (a model or checkpoint saved from a diverged run); the message names the tensor and the element.</exception>
    /// <param name="name">The tensor.</param>
    /// <param name="destination">Receives its elements.</param>
    /// <param name="allowNonFinite">Accept NaNs and infinities (by default they are an error).</param>
    public void ReadFloat32(string name, Span<float> destination, bool allowNonFinite = false)
    {
        var file = Locate(name);
        var info = file.InfoOf(name);
        if (!info.DType.IsReadableAsFloat32())
            throw new InvalidDataException($"{info.File}: tensor '{name}' has dtype {info.DType}, which cannot be read as float32; " +
                (info.DType.IsReadableAsInteger() ? "use ReadInt64 or ReadInt32." : "only F32, F16, BF16 and F64 can."));
        CheckLength(info, destination.Length, nameof(destination));
        int size = info.DType.ByteSize();
        for (int i = 0; i < destination.Length; i += SliceElements)
        {
            int m = Math.Min(SliceElements, destination.Length - i);
            var slice = destination.Slice(i, m);
            SafetensorsConvert.ToFloat32(info.DType, file.Bytes(info.Begin + (long)i * size, m * size), slice);
            if (!allowNonFinite && NonFinite.IndexIn(slice) is int bad and >= 0)
                throw new InvalidDataException($"{info.File}: tensor '{name}' holds {slice[bad]} at element {i + bad}: its weights are not finite (a diverged run?).");
        }
    }

    /// <summary>Reads a floating-point tensor as a new float32 array (see <see cref="ReadFloat32(string, Span{float}, bool)"/>).</summary>
    public float[] ReadFloat32(string name, bool allowNonFinite = false)
    {
        var a = new float[ArrayLength(Info(name))];
        ReadFloat32(name, a, allowNonFinite);
        return a;
    }

    /// <summary>Reads an integer tensor (I64, I32, I16, I8, U8, U16, U32, or U64 up to <see cref="long.MaxValue"/>) as 64-bit integers.</summary>
    /// <exception cref="ArgumentException">The destination's length differs from the tensor's element count.</exception>
    /// <exception cref="InvalidDataException">The tensor is not of an integer dtype, or a U64 value does not fit.</exception>
    public void ReadInt64(string name, Span<long> destination)
    {
        var (file, info) = IntegerTensor(name, destination.Length, nameof(destination));
        for (int i = 0; i < destination.Length; i += SliceElements)
            ReadIntegers(file, info, i, destination.Slice(i, Math.Min(SliceElements, destination.Length - i)));
    }

    /// <summary>Reads an integer tensor as a new array of 64-bit integers (see <see cref="ReadInt64(string, Span{long})"/>).</summary>
    public long[] ReadInt64(string name)
    {
        var a = new long[ArrayLength(Info(name))];
        ReadInt64(name, a);
        return a;
    }

    /// <summary>Reads an integer tensor as 32-bit integers; 64-bit values must fit (token ids do).</summary>
    /// <exception cref="ArgumentException">The destination's length differs from the tensor's element count.</exception>
    /// <exception cref="InvalidDataException">The tensor is not of an integer dtype, or a value does not fit in 32 bits;
    /// the message names the tensor and the element's index.</exception>
    public void ReadInt32(string name, Span<int> destination)
    {
        var (file, info) = IntegerTensor(name, destination.Length, nameof(destination));
        Span<long> wide = stackalloc long[Math.Min(256, destination.Length)];
        for (int i = 0; i < destination.Length; i += wide.Length)
        {
            var part = wide[..Math.Min(wide.Length, destination.Length - i)];
            ReadIntegers(file, info, i, part);
            for (int j = 0; j < part.Length; j++)
            {
                long v = part[j];
                if (v < int.MinValue || v > int.MaxValue)
                    throw new InvalidDataException($"{info.File}: tensor '{name}' element {i + j} is {v}, which does not fit in 32 bits.");
                destination[i + j] = (int)v;
            }
        }
    }

    /// <summary>Reads an integer tensor as a new array of 32-bit integers (see <see cref="ReadInt32(string, Span{int})"/>).</summary>
    public int[] ReadInt32(string name)
    {
        var a = new int[ArrayLength(Info(name))];
        ReadInt32(name, a);
        return a;
    }

    /// <summary>Reads a floating-point tensor into a new float32 <see cref="Tensor"/> of the same shape on <paramref name="device"/>.</summary>
    public Tensor ReadTensor(string name, Device device)
    {
        var info = Info(name);
        var t = Tensor.Empty(device, info.ShapeArray);
        try
        {
            ReadInto(name, t);
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>Reads a floating-point tensor into an existing device tensor of exactly its shape.</summary>
    /// <exception cref="ArgumentException">The tensor's shape differs from the stored one; the message names both.</exception>
    public void ReadInto(string name, Tensor destination)
    {
        var info = Info(name);
        if (!destination.Shape.SequenceEqual(info.Shape))
            throw new ArgumentException(
                $"{info.File}: tensor '{name}' has shape {info.ShapeString} but the destination is {destination.ShapeString}.", nameof(destination));
        int n = ArrayLength(info);
        if (n == 0) return;
        var host = ArrayPool<float>.Shared.Rent(n);
        try
        {
            ReadFloat32(name, host.AsSpan(0, n));
            destination.CopyFrom(host.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(host);
        }
    }

    /// <summary>Frees the file mappings. Spans handed out earlier must not be used afterwards.</summary>
    public abstract void Dispose();

    /// <summary>The error for a tensor that does not exist: names <see cref="Source"/> and the stored names closest to <paramref name="name"/>.</summary>
    private protected KeyNotFoundException MissingTensor(string name)
    {
        var all = Tensors;
        var near = all
            .OrderByDescending(t => CommonPrefix(t.Name, name))
            .ThenBy(t => t.Name, StringComparer.Ordinal)
            .Take(5)
            .Select(t => $"'{t.Name}'");
        string have = all.Count == 0 ? "it holds no tensors" : $"it holds {all.Count} tensors, e.g. {string.Join(", ", near)}";
        return new KeyNotFoundException($"{Source} has no tensor '{name}'; {have}.");
    }

    private static int CommonPrefix(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length), i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    private static void CheckLength(SafetensorsTensorInfo info, int length, string argument)
    {
        if (length != info.ElementCount)
            throw new ArgumentException(
                $"{info.File}: tensor '{info.Name}' {info.ShapeString} has {info.ElementCount} elements but the destination holds {length}.", argument);
    }

    private static int ArrayLength(SafetensorsTensorInfo info) =>
        info.ElementCount <= Array.MaxLength
            ? (int)info.ElementCount
            : throw new InvalidDataException($"{info.File}: tensor '{info.Name}' {info.ShapeString} has {info.ElementCount} elements, too many for one array.");

    private (SafetensorsFile File, SafetensorsTensorInfo Info) IntegerTensor(string name, int length, string argument)
    {
        var file = Locate(name);
        var info = file.InfoOf(name);
        if (!info.DType.IsReadableAsInteger())
            throw new InvalidDataException($"{info.File}: tensor '{name}' has dtype {info.DType}, not an integer type" +
                (info.DType.IsReadableAsFloat32() ? "; use ReadFloat32." : "."));
        CheckLength(info, length, argument);
        return (file, info);
    }

    /// <summary>Reads elements [<paramref name="start"/>, start + destination.Length) of an integer tensor, widened.</summary>
    private static void ReadIntegers(SafetensorsFile file, SafetensorsTensorInfo info, int start, Span<long> destination)
    {
        int size = info.DType.ByteSize();
        var bytes = file.Bytes(info.Begin + (long)start * size, destination.Length * size);
        for (int j = 0; j < destination.Length; j++)
        {
            try { destination[j] = SafetensorsConvert.IntegerAt(info.DType, bytes, j); }
            catch (OverflowException)
            {
                throw new InvalidDataException($"{info.File}: tensor '{info.Name}' element {start + j} exceeds {long.MaxValue}.");
            }
        }
    }
}
