using Jepa.Core;

namespace Jepa.Tests.Core;

public sealed class DeviceTests
{
    [Fact]
    public void EnumerateListsTheCpuAccelerator()
    {
        var all = Device.Enumerate();
        Assert.Contains(all, d => d.Kind == DeviceKind.Cpu);
    }

    [Fact]
    public void AbsentDeviceIsAClearErrorListingWhatExists()
    {
        var e = Assert.Throws<ArgumentException>(() => Device.Create(new DeviceOptions { Kind = DeviceKind.Cpu, Index = 99 }));
        Assert.Contains("No cpu device with index 99", e.Message);
        Assert.Contains("cpu:0", e.Message);
    }

    [Fact]
    public void UnknownDeviceNameIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceKindNames.Parse("tpu"));
        Assert.Contains("cpu, cuda, opencl", e.Message);
    }

    [Fact]
    public void GeometryUsesCoarseChunksOnTheCpu()
    {
        var g = new LaunchGeometry(DeviceKind.Cpu, cpuChunks: 3, maxGroupSize: 64, warpSize: 8);
        Assert.Equal(3, g.Threads(1000));
        Assert.Equal(334, g.PerThread(1000));
        Assert.Equal(2, g.Threads(2));
        var gpu = new LaunchGeometry(DeviceKind.Cuda, cpuChunks: 3, maxGroupSize: 1024, warpSize: 32);
        Assert.Equal(1000, gpu.Threads(1000));
        Assert.Equal(1, gpu.PerThread(1000));
    }
}
