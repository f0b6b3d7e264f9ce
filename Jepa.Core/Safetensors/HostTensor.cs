namespace Jepa.Core.Safetensors;

/// <summary>Float32 data in host memory with a row-major shape, as <see cref="SafetensorsWriter"/> takes it.</summary>
public sealed class HostTensor
{
    private readonly int[] _shape;

    /// <summary>Wraps <paramref name="data"/> (not copied) as a tensor of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The data's length is not the shape's element count.</exception>
    public HostTensor(ReadOnlyMemory<float> data, params int[] shape)
    {
        long n = Tensor.ElementCount(shape);
        if (n != data.Length)
            throw new ArgumentException($"Data has {data.Length} elements but shape [{string.Join(", ", shape)}] needs {n}.", nameof(data));
        Data = data;
        _shape = (int[])shape.Clone();
    }

    /// <summary>The elements, row-major.</summary>
    public ReadOnlyMemory<float> Data { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape => _shape;

    internal int[] ShapeArray => _shape;
}
