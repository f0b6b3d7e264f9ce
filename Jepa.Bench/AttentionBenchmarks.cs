using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Bench;

/// <summary>
/// Causal self-attention (Hq = Hkv = H, scale 1/√D, no segments) on the device that <see cref="Device.Create"/>
/// picks (<c>JEPA_DEVICE</c> overrides): the forward pass, and forward plus backward, each followed by a device
/// synchronization. Shape B 8, H 12, D 64, T 1024 on GPUs (the kernels). On the CPU accelerator: the SIMD host
/// path (the default there) at B 1 and 2, H 4, D 64, T 128 and 256, and the ILGPU kernels (forced) at B 1, H 4,
/// D 64, T 128 only, since they run at a few hundredths of a GFLOP/s there.
/// GFLOP/s convention: forward = 2·B·H·T²·D (QKᵀ and PV at 2·T²·D each, halved by the causal mask);
/// backward = 2.5 × forward, so forward + backward = 3.5 × forward. Recomputation is not counted.
/// </summary>
[Config(typeof(FlopsConfig))]
public class AttentionBenchmarks
{
    private Device? _device;
    private KernelLibrary? _ops;
    private Attention? _attention;
    private Tensor? _q, _k, _v, _o, _lse, _dO, _dq, _dk, _dv;

    /// <summary>Sizes of one benchmark case.</summary>
    /// <param name="B">Batch.</param>
    /// <param name="H">Heads.</param>
    /// <param name="T">Sequence length.</param>
    /// <param name="D">Head dimension.</param>
    /// <param name="Path">Which implementation runs.</param>
    public sealed record AttentionShape(int B, int H, int T, int D, KernelPath Path = KernelPath.Auto)
    {
        /// <summary>Forward floating-point operations under the causal convention above.</summary>
        public double ForwardFlops => 2.0 * B * H * (double)T * T * D;

        /// <inheritdoc />
        public override string ToString() => $"{Path} B{B} H{H} T{T} D{D}";
    }

    /// <summary>The shape to time.</summary>
    [ParamsSource(nameof(Shapes))]
    public AttentionShape Shape { get; set; } = new(1, 4, 128, 64);

    /// <summary>The shape on GPUs; on the CPU accelerator, small shapes on the host path and the smallest
    /// on the kernel path, so the run finishes.</summary>
    public static IEnumerable<AttentionShape> Shapes()
    {
        using var device = Device.Create();
        if (device.Geometry.IsGpu) return [new(8, 12, 1024, 64)];
        const KernelPath host = KernelPath.Host;
        return [new(1, 4, 128, 64, host), new(2, 4, 128, 64, host), new(1, 4, 256, 64, host), new(2, 4, 256, 64, host),
            new(1, 4, 128, 64, KernelPath.Kernel)];
    }

    /// <summary>Opens the device, fills q, k, v and dO with random values and compiles the kernels.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = Device.Create();
        _ops = new KernelLibrary(_device);
        var s = Shape;
        _attention = new Attention(_ops.Cache, s.Path);
        int n = s.B * s.T * s.H * s.D;
        Tensor Random(ulong seed)
        {
            var data = new float[n];
            Philox.FillUniform(data, seed, stream: 0, -1f, 1f);
            return Tensor.FromArray(_device, data, s.B, s.T, s.H, s.D);
        }
        _q = Random(1); _k = Random(2); _v = Random(3); _dO = Random(4);
        _o = Tensor.Empty(_device, s.B, s.T, s.H, s.D);
        _lse = Tensor.Empty(_device, s.B, s.H, s.T);
        _dq = Tensor.Zeros(_device, s.B, s.T, s.H, s.D);
        _dk = Tensor.Zeros(_device, s.B, s.T, s.H, s.D);
        _dv = Tensor.Zeros(_device, s.B, s.T, s.H, s.D);
        Console.WriteLine($"// Attention on {_device}, {s}, {_attention.Path} path");
        ForwardBackward(); // compile the kernels outside the measurements
    }

    /// <summary>The forward pass (o and lse), then waits for the device.</summary>
    [Benchmark]
    public void Forward()
    {
        RunForward();
        _device!.Synchronize();
    }

    /// <summary>The forward pass, then the backward pass accumulating dq, dk, dv; then waits for the device.</summary>
    [Benchmark]
    public void ForwardBackward()
    {
        RunForward();
        var s = Shape;
        _attention!.Backward(_dO!.View, _q!.View, _k!.View, _v!.View, _o!.View, _lse!.View, _dq!.View, _dk!.View, _dv!.View,
            s.B, s.T, s.H, s.H, s.D);
        _device!.Synchronize();
    }

    private void RunForward()
    {
        var s = Shape;
        _attention!.Forward(_q!.View, _k!.View, _v!.View, _o!.View, _lse!.View, s.B, s.T, s.H, s.H, s.D);
    }

    /// <summary>Frees the tensors and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _q, _k, _v, _o, _lse, _dO, _dq, _dk, _dv }) t?.Dispose();
        _device?.Dispose();
    }

    private sealed class FlopsConfig : ManualConfig
    {
        public FlopsConfig() => AddColumn(new GflopsColumn(c =>
            ((AttentionShape)c.Parameters["Shape"]).ForwardFlops
            * (c.Descriptor.WorkloadMethod.Name == nameof(ForwardBackward) ? 3.5 : 1.0)));
    }
}
