using BenchmarkDotNet.Attributes;
using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Bench;

/// <summary>
/// Memory-bound kernels on the selected device (<see cref="Device.Create"/>, honouring <c>JEPA_DEVICE</c>):
/// an elementwise op, the deterministic sum and the fused AdamW step over 4M floats. Each invocation
/// synchronizes, so the time is the kernel's, and the GB/s column divides the state bytes each op must move
/// (see <see cref="BytesPerElementAttribute"/>) by the mean time.
/// </summary>
[Config(typeof(BandwidthConfig))]
public class ElementwiseBenchmarks
{
    private Device _device = null!;
    private KernelLibrary _ops = null!;
    private Tensor _x = null!, _y = null!, _z = null!, _result = null!;
    private Tensor _p = null!, _g = null!, _m = null!, _v = null!;

    /// <summary>Elements per op.</summary>
    [Params(1 << 22)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _device = Device.Create();
        _ops = new KernelLibrary(_device);
        Tensor Random(ulong seed, float lo, float hi)
        {
            var a = new float[N];
            Philox.FillUniform(a, seed, stream: 1, lo, hi);
            return Tensor.FromArray(_device, a, N);
        }
        _x = Random(1, -1f, 1f); _y = Random(2, -1f, 1f); _z = Tensor.Empty(_device, N);
        _result = Tensor.Empty(_device, 1);
        _p = Random(3, -1f, 1f); _g = Random(4, -1f, 1f); _m = Tensor.Zeros(_device, N); _v = Tensor.Zeros(_device, N);
        Console.WriteLine($"// device: {_device}");
        // Compile every kernel before measuring.
        Axpy(); Add(); Sum(); AdamWStep();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _x, _y, _z, _result, _p, _g, _m, _v }) t.Dispose();
        _device.Dispose();
    }

    /// <summary>y += a·x: reads x and y, writes y.</summary>
    [Benchmark, BytesPerElement(12)]
    public void Axpy()
    {
        _ops.Elementwise.Axpy(1e-6f, _x.View, _y.View, N);
        _device.Synchronize();
    }

    /// <summary>z = x + y: reads x and y, writes z.</summary>
    [Benchmark, BytesPerElement(12)]
    public void Add()
    {
        _ops.Elementwise.Add(_x.View, _y.View, _z.View, N);
        _device.Synchronize();
    }

    /// <summary>Σ x into a device scalar: reads x (the partials are 1/1024 of that).</summary>
    [Benchmark, BytesPerElement(4)]
    public void Sum()
    {
        _ops.Reductions.Sum(_x.View, N, _result.View);
        _device.Synchronize();
    }

    /// <summary>AdamW with the gradient scale read from the device: reads p, g, m, v, writes p, m, v.</summary>
    [Benchmark, BytesPerElement(28)]
    public void AdamWStep()
    {
        _ops.AdamW.Step(_p.View, _g.View, _m.View, _v.View, N, 10, 1e-4, 0.9, 0.95, 1e-8, 0.1, _result.View);
        _device.Synchronize();
    }
}
