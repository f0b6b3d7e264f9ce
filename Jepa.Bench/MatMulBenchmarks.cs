using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Bench;

/// <summary>
/// Square matrix products C[n, n] = A·B (NN) and A·Bᵀ (NT, the linear layer) on the device that
/// <see cref="Device.Create"/> picks (<c>JEPA_DEVICE</c> overrides). One invocation is one product followed by
/// a device synchronization; the GFLOP/s column counts 2·n³ operations per invocation.
/// On GPUs the kernel path at sizes 256, 512 and 1024; on the CPU accelerator the SIMD host path at 256,
/// 512 and 1024 and the ILGPU kernel path at 256 only (it runs at a fraction of a GFLOP/s there).
/// </summary>
[Config(typeof(FlopsConfig))]
public class MatMulBenchmarks
{
    private Device? _device;
    private MatMul? _matMul;
    private Tensor? _a, _b, _c;

    /// <summary>The path and the matrix side n (M = N = K = n).</summary>
    [ParamsSource(nameof(Cases))]
    public MatMulCase Case { get; set; } = new(KernelPath.Host, 256);

    /// <summary>Which form of the product to time.</summary>
    [Params(MatMulForm.NN, MatMulForm.NT)]
    public MatMulForm Form { get; set; }

    /// <summary>The kernel at 256, 512 and 1024 on a GPU; on the CPU accelerator the host path at 256, 512 and
    /// 1024 and the kernel at 256.</summary>
    public static IEnumerable<MatMulCase> Cases()
    {
        using var device = Device.Create();
        return device.Geometry.IsGpu
            ? [new(KernelPath.Kernel, 256), new(KernelPath.Kernel, 512), new(KernelPath.Kernel, 1024)]
            : [new(KernelPath.Host, 256), new(KernelPath.Host, 512), new(KernelPath.Host, 1024), new(KernelPath.Kernel, 256)];
    }

    /// <summary>Opens the device, loads the kernel and fills A and B with random values.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = Device.Create();
        _matMul = new MatMul(new KernelCache(_device), path: Case.Path);
        int n = Case.Size;
        var data = new float[n * n];
        Philox.FillUniform(data, seed: 1, stream: 0, -1f, 1f);
        _a = Tensor.FromArray(_device, data, n, n);
        Philox.FillUniform(data, seed: 2, stream: 0, -1f, 1f);
        _b = Tensor.FromArray(_device, data, n, n);
        _c = Tensor.Empty(_device, n, n);
        string load = File.Exists("/proc/loadavg") ? $", load average {File.ReadAllText("/proc/loadavg").Trim()}" : "";
        Console.WriteLine($"// MatMul {_matMul.Path} on {_device}, {_device.Geometry.CpuChunks} CPU threads, kernel tile {_matMul.Tile}{load}");
        Forward(); // compile the kernel outside the measurements
    }

    /// <summary>One product C = op(A)·op(B), then waits for the device.</summary>
    [Benchmark]
    public void Forward()
    {
        int n = Case.Size;
        _matMul!.Forward(Form, _a!.View, _b!.View, _c!.View, n, n, n);
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
        public FlopsConfig() => AddColumn(new GflopsColumn(c => 2.0 * Math.Pow(((MatMulCase)c.Parameters["Case"]).Size, 3)));
    }
}
