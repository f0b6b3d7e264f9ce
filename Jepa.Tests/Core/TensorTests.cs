using Jepa.Core;
using Jepa.Tests.Support;

namespace Jepa.Tests.Core;

public sealed class TensorTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    [Fact]
    public void RoundTripsThroughDeviceMemory()
    {
        var data = Reference.Random(3 * 5 * 7, 11);
        using var t = f.Upload(data, 3, 5, 7);
        Assert.Equal(new[] { 3, 5, 7 }, t.Shape);
        Assert.Equal(7, t.Dim(-1));
        Reference.AssertBitwiseEqual(t.ToArray(), data, "round trip");
        using var z = Tensor.Zeros(f.Device, 4, 4);
        Assert.All(z.ToArray(), x => Assert.Equal(0f, x));
    }

    [Fact]
    public void ShapeMismatchesAreClearErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromArray(f.Device, new float[5], 2, 3));
        Assert.Contains("needs 6", e.Message);
        using var t = Tensor.Zeros(f.Device, 2, 3);
        Assert.Throws<ArgumentException>(() => t.Reshape(4, 2));
        Assert.Equal(new[] { 3, 2 }, t.Reshape(3, 2).Shape);
        var s = Assert.Throws<ArgumentException>(() => t.ExpectShape("weights", 3, 2));
        Assert.Contains("weights", s.Message);
    }

    [Fact]
    public void SteadyStateReusesPooledMemory()
    {
        using var device = Device.Cpu(2);
        for (int step = 0; step < 3; step++)
        {
            using var a = Tensor.Empty(device, 100, 10);
            using var b = Tensor.Empty(device, 37);
            using var c = Tensor.Empty(device, 1000);
        }
        long after = device.Pool.Allocations;
        for (int step = 0; step < 10; step++)
        {
            using var a = Tensor.Empty(device, 100, 10);
            using var b = Tensor.Empty(device, 37);
            using var c = Tensor.Empty(device, 1000);
        }
        Assert.Equal(after, device.Pool.Allocations);
        Assert.Equal(0, device.Pool.BytesInUse);
        Assert.True(device.Pool.PeakBytesInUse >= (1000 + 37 + 1000) * 4);
    }

    [Fact]
    public void BucketsRoundUpToPowersOfTwoAndHalves()
    {
        Assert.Equal(64, BufferPool.BucketFor(1));
        Assert.Equal(96, BufferPool.BucketFor(65));
        Assert.Equal(128, BufferPool.BucketFor(97));
        Assert.Equal(1536, BufferPool.BucketFor(1025));
    }
}

public sealed class IntTensorTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    [Fact]
    public void IntegersRoundTripThroughThe32BitStorage()
    {
        int[] ids = [0, 1, -100, int.MaxValue, int.MinValue, 12345];
        using var t = Tensor.FromInt32(f.Device, ids, 2, 3);
        Assert.Equal(ids, t.ToInt32Array());
        Assert.Equal(6, t.AsInt32().Length);
        t.CopyFromInt32([5, 4, 3, 2, 1, 0]);
        Assert.Equal(new[] { 5, 4, 3, 2, 1, 0 }, t.ToInt32Array());
    }
}
