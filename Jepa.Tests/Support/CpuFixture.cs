using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Tests.Support;

/// <summary>A CPU-accelerator device and its kernel libraries, shared by the tests of one class.</summary>
public sealed class CpuFixture : IDisposable
{
    public CpuFixture()
    {
        Device = Device.Cpu(cpuChunks: 2);
        Ops = new KernelLibrary(Device);
        Kernels = new KernelLibrary(Device, KernelPath.Kernel);
    }

    public Device Device { get; }

    /// <summary>The default library: the SIMD host paths on the CPU accelerator.</summary>
    public KernelLibrary Ops { get; }

    /// <summary>The ILGPU kernels, forced (as they run on GPUs).</summary>
    public KernelLibrary Kernels { get; }

    /// <summary>The library running <paramref name="path"/> (<see cref="KernelPath.Auto"/> and <see cref="KernelPath.Host"/>
    /// are the same on the CPU accelerator).</summary>
    public KernelLibrary Lib(KernelPath path) => path == KernelPath.Kernel ? Kernels : Ops;

    public Tensor Upload(float[] data, params int[] shape) => Tensor.FromArray(Device, data, shape);

    public void Dispose() => Device.Dispose();
}
