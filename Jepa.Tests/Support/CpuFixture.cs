using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Tests.Support;

/// <summary>A CPU-accelerator device and its kernel library, shared by the tests of one class.</summary>
public sealed class CpuFixture : IDisposable
{
    public CpuFixture()
    {
        Device = Device.Cpu(cpuChunks: 2);
        Ops = new KernelLibrary(Device);
    }

    public Device Device { get; }
    public KernelLibrary Ops { get; }

    public Tensor Upload(float[] data, params int[] shape) => Tensor.FromArray(Device, data, shape);

    public void Dispose() => Device.Dispose();
}
