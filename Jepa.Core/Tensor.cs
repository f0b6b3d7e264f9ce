using ILGPU;
using ILGPU.Runtime;

namespace Jepa.Core;

/// <summary>
/// A dense, row-major float32 tensor in device memory. Its buffer comes from the device's
/// <see cref="BufferPool"/> and goes back there on <see cref="Dispose"/>. A reshaped tensor shares
/// its parent's memory and owns nothing.
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly int[] _shape;
    private MemoryBuffer1D<float, Stride1D.Dense>? _buffer;
    private readonly ArrayView<float> _view;
    private readonly bool _owns;

    private Tensor(Device device, MemoryBuffer1D<float, Stride1D.Dense>? buffer, ArrayView<float> view, int[] shape, bool owns)
    {
        Device = device;
        _buffer = buffer;
        _view = view;
        _shape = shape;
        _owns = owns;
    }

    /// <summary>The device that owns the memory.</summary>
    public Device Device { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public long Length => _view.Length;

    /// <summary>Size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int Dim(int axis) => _shape[axis < 0 ? _shape.Length + axis : axis];

    /// <summary>The elements as an ILGPU view, for kernels.</summary>
    public ArrayView<float> View
    {
        get
        {
            if (_owns && _buffer is null) throw new ObjectDisposedException(nameof(Tensor), $"Tensor {ShapeString} was disposed.");
            return _view;
        }
    }

    /// <summary>The shape as text, e.g. <c>[8, 128, 256]</c>.</summary>
    public string ShapeString => "[" + string.Join(", ", _shape) + "]";

    /// <summary>Elements of a shape, with a clear error for negative or overflowing dimensions.</summary>
    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Shape [{string.Join(", ", shape.ToArray())}] has a negative dimension.");
            n = checked(n * d);
        }
        return n;
    }

    /// <summary>A tensor with undefined contents (fastest; fill it before reading).</summary>
    public static Tensor Empty(Device device, params int[] shape)
    {
        long n = ElementCount(shape);
        var buffer = device.Pool.Rent(n);
        return new Tensor(device, buffer, buffer.View.SubView(0, n), (int[])shape.Clone(), owns: true);
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Device device, params int[] shape)
    {
        var t = Empty(device, shape);
        t.Clear();
        return t;
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The data's length does not match the shape.</exception>
    public static Tensor FromArray(Device device, ReadOnlySpan<float> data, params int[] shape)
    {
        long n = ElementCount(shape);
        if (n != data.Length)
            throw new ArgumentException($"Data has {data.Length} elements but shape [{string.Join(", ", shape)}] needs {n}.", nameof(data));
        var t = Empty(device, shape);
        t.CopyFrom(data);
        return t;
    }

    /// <summary>A tensor holding 32-bit integers (token ids, positions, segment ids) in the same pooled
    /// 32-bit storage; read them in kernels through <see cref="AsInt32"/>.</summary>
    /// <exception cref="ArgumentException">The data's length does not match the shape.</exception>
    public static Tensor FromInt32(Device device, ReadOnlySpan<int> data, params int[] shape) =>
        FromArray(device, System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(data), shape);

    /// <summary>The elements reinterpreted as 32-bit integers (for tensors made by <see cref="FromInt32"/>).</summary>
    public ArrayView<int> AsInt32() => View.Cast<int>();

    /// <summary>Copies the elements, reinterpreted as 32-bit integers, into a new host array.</summary>
    public int[] ToInt32Array()
    {
        var a = new int[Length];
        CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(a.AsSpan()));
        return a;
    }

    /// <summary>Copies host integers into the tensor's 32-bit storage.</summary>
    public void CopyFromInt32(ReadOnlySpan<int> data) => CopyFrom(System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(data));

    /// <summary>A view of the same memory with another shape of the same element count.</summary>
    public Tensor Reshape(params int[] shape)
    {
        long n = ElementCount(shape);
        if (n != Length)
            throw new ArgumentException($"Cannot reshape {ShapeString} ({Length} elements) to [{string.Join(", ", shape)}] ({n} elements).", nameof(shape));
        return new Tensor(Device, null, View, (int[])shape.Clone(), owns: false);
    }

    /// <summary>A view of rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of a 2-D tensor:
    /// the same memory, owning nothing.</summary>
    public Tensor Rows(int start, int count)
    {
        if (Rank != 2) throw new InvalidOperationException($"Rows of a tensor need 2 dimensions, got {ShapeString}.");
        if (start < 0 || count < 0 || start + (long)count > _shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + (long)count}) are outside {ShapeString}.");
        long cols = _shape[1];
        return new Tensor(Device, null, View.SubView(start * cols, count * cols), [count, _shape[1]], owns: false);
    }

    /// <summary>Sets every element to zero.</summary>
    public void Clear() => View.MemSetToZero(Device.Accelerator.DefaultStream);

    /// <summary>Copies host data into the tensor.</summary>
    public void CopyFrom(ReadOnlySpan<float> data)
    {
        if (data.Length != Length)
            throw new ArgumentException($"Cannot copy {data.Length} elements into tensor {ShapeString} of {Length}.", nameof(data));
        View.CopyFromCPU(Device.Accelerator.DefaultStream, data);
    }

    /// <summary>Copies the tensor into host memory.</summary>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length != Length)
            throw new ArgumentException($"Cannot copy tensor {ShapeString} of {Length} elements into a span of {destination.Length}.", nameof(destination));
        View.CopyToCPU(Device.Accelerator.DefaultStream, destination);
    }

    /// <summary>Copies host data into elements [<paramref name="offset"/>, offset + data.Length) of the tensor (row-major).</summary>
    public void CopyFrom(long offset, ReadOnlySpan<float> data)
    {
        CheckRange(offset, data.Length);
        View.SubView(offset, data.Length).CopyFromCPU(Device.Accelerator.DefaultStream, data);
    }

    /// <summary>Copies elements [<paramref name="offset"/>, offset + destination.Length) of the tensor into host memory.</summary>
    public void CopyTo(long offset, Span<float> destination)
    {
        CheckRange(offset, destination.Length);
        View.SubView(offset, destination.Length).CopyToCPU(Device.Accelerator.DefaultStream, destination);
    }

    private void CheckRange(long offset, int count)
    {
        if (offset < 0 || offset + count > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Elements [{offset}, {offset + count}) are outside tensor {ShapeString} of {Length}.");
    }

    /// <summary>Copies the tensor into a new host array.</summary>
    public float[] ToArray()
    {
        var a = new float[Length];
        CopyTo(a);
        return a;
    }

    /// <summary>Throws unless the tensor has exactly this shape; the message names <paramref name="name"/>.</summary>
    public void ExpectShape(string name, params int[] shape)
    {
        if (!_shape.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"{name}: expected shape [{string.Join(", ", shape)}], got {ShapeString}.", name);
    }

    /// <inheritdoc />
    public override string ToString() => $"Tensor{ShapeString} on {Device.Kind.Name()}";

    /// <summary>Gives the memory back to the pool (no-op for reshaped views).</summary>
    public void Dispose()
    {
        if (_owns && _buffer is { } b)
        {
            _buffer = null;
            Device.Pool.Return(b);
        }
    }
}
