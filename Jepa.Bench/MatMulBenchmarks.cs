using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Bench;

/// <summary>
/// Square matrix products C[n, n] = A·B (NN) and A·Bᵀ (NT, the linear layer) on the device that
/// <see cref="Device.Create"/> picks (<c>JEPA_DEVICE</c> overrides). One invocation is one product followed by
/// a device synchronization; the GFLOP/s column counts 2·n³ operations per invocation.
/// Sizes 256 and 512 everywhere, plus 1024 on GPUs.
/// </summary>
[Config(typeof(FlopsConfig))]
public class MatMulBenchmarks
{
    private Device? _device;
    private KernelLibrary? _ops;
    private Tensor? _a, _b, _c;

    /// <summary>Matrix side n (M = N = K = n).</summary>
    [ParamsSource(nameof(Sizes))]
    public int Size { get; set; }

    /// <summary>Which form of the product to time.</summary>
    [Params(MatMulForm.NN, MatMulForm.NT)]
    public MatMulForm Form { get; set; }

    /// <summary>256 and 512, plus 1024 when the selected device is a GPU.</summary>
    public static IEnumerable<int> Sizes()
    {
        using var device = Device.Create();
        return device.Geometry.IsGpu ? [256, 512, 1024] : [256, 512];
    }

    /// <summary>Opens the device, loads the kernel and fills A and B with random values.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = Device.Create();
        _ops = new KernelLibrary(_device);
        int n = Size;
        var data = new float[n * n];
        Philox.FillUniform(data, seed: 1, stream: 0, -1f, 1f);
        _a = Tensor.FromArray(_device, data, n, n);
        Philox.FillUniform(data, seed: 2, stream: 0, -1f, 1f);
        _b = Tensor.FromArray(_device, data, n, n);
        _c = Tensor.Empty(_device, n, n);
        Console.WriteLine($"// MatMul on {_device}, tile {_ops.MatMul.Tile}");
        Forward(); // compile the kernel outside the measurements
    }

    /// <summary>One product C = op(A)·op(B), then waits for the device.</summary>
    [Benchmark]
    public void Forward()
    {
        _ops!.MatMul.Forward(Form, _a!.View, _b!.View, _c!.View, Size, Size, Size);
        _device!.Synchronize();
    }

    /// <summary>Frees the tensors and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _a?.Dispose(); _b?.Dispose(); _c?.Dispose();
        _device?.Dispose();
    }

    private sealed class FlopsConfig : ManualConfig
    {
        public FlopsConfig() => AddColumn(new GflopsColumn(c => 2.0 * Math.Pow(Convert.ToDouble(c.Parameters["Size"]), 3)));
    }
}
