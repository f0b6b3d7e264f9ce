using ILGPU;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class ReductionTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private static readonly ReductionKind[] AllKinds =
        [ReductionKind.Sum, ReductionKind.SumOfSquares, ReductionKind.Max, ReductionKind.AbsMax, ReductionKind.L2Norm];

    private static double Expected(ReductionKind kind, IEnumerable<float> xs) => kind switch
    {
        ReductionKind.Sum => xs.Sum(x => (double)x),
        ReductionKind.SumOfSquares => xs.Sum(x => (double)x * x),
        ReductionKind.L2Norm => Math.Sqrt(xs.Sum(x => (double)x * x)),
        ReductionKind.Max => xs.Aggregate(double.NegativeInfinity, (m, x) => Math.Max(m, x)),
        ReductionKind.AbsMax => xs.Aggregate(0.0, (m, x) => Math.Max(m, Math.Abs(x))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static void AssertMatches(ReductionKind kind, float actual, double expected, string what)
    {
        if (kind is ReductionKind.Max or ReductionKind.AbsMax)
            Assert.True(actual == (float)expected, $"{what}: {actual:R} vs {expected:R}"); // max is exact
        else
            Reference.AssertClose([actual], [expected], 1e-6, what);
    }

    /// <summary>Every kind on a device view, into a device result, with pooled and caller-given scratch.</summary>
    private static float[] RunAll(KernelLibrary ops, float[] data)
    {
        int n = data.Length;
        using var x = Tensor.FromArray(ops.Device, data, n);
        using var result = Tensor.Empty(ops.Device, AllKinds.Length);
        for (int k = 0; k < AllKinds.Length; k++)
            ops.Reductions.Reduce(AllKinds[k], x.View, n, result.View.SubView(k, 1));
        return result.ToArray();
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 1)]
    [InlineData(KernelPath.Host, 1)]
    [InlineData(KernelPath.Kernel, 7)]
    [InlineData(KernelPath.Host, 7)]
    [InlineData(KernelPath.Kernel, 1023)]
    [InlineData(KernelPath.Host, 1023)]
    [InlineData(KernelPath.Kernel, 1024)]
    [InlineData(KernelPath.Host, 1024)]
    [InlineData(KernelPath.Kernel, 1025)]
    [InlineData(KernelPath.Host, 1025)]
    [InlineData(KernelPath.Kernel, 5000)]
    [InlineData(KernelPath.Host, 5000)]
    [InlineData(KernelPath.Kernel, 70000)]
    [InlineData(KernelPath.Host, 70000)]
    public void EveryKindMatchesFloat64(KernelPath path, int n)
    {
        // Mixed signs with a positive mean (a well-conditioned sum), then all-negative values for max.
        var mixed = Reference.Random(n, 100 + (ulong)n, -1f, 2f);
        var negative = Reference.Random(n, 200 + (ulong)n, -5f, -1f);
        foreach (var (data, name) in new[] { (mixed, "mixed"), (negative, "negative") })
        {
            var got = RunAll(f.Lib(path), data);
            for (int k = 0; k < AllKinds.Length; k++)
                AssertMatches(AllKinds[k], got[k], Expected(AllKinds[k], data), $"{AllKinds[k]} n={n} {name}");
        }
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void HostConveniencesAndCallerScratchGiveTheDeviceValues(KernelPath path)
    {
        int n = 5000;
        var data = Reference.Random(n, 7, -1f, 2f);
        using var x = f.Upload(data, n);
        using var result = Tensor.Empty(f.Device, 1);
        var red = f.Lib(path).Reductions;
        using var scratch = Tensor.Empty(f.Device, red.ScratchLength(n));
        Assert.Equal(5, red.ScratchLength(n) - red.ScratchLength(1)); // one partial per block of 1024 …
        Assert.Equal(0, red.ScratchLength(1024) - red.ScratchLength(1));
        Assert.Equal(1025 + 2, red.ScratchLength(1024 * 1024 + 1) - red.ScratchLength(1)); // … on every level but the last
        var device = RunAll(f.Lib(path), data);
        f.Lib(path).Reductions.Reduce(ReductionKind.L2Norm, x.View, n, result.View, scratch.View);
        Reference.AssertBitwiseEqual(result.ToArray(), [device[4]], "caller scratch");
        Reference.AssertBitwiseEqual([f.Lib(path).Reductions.SumToHost(x.View, n), f.Lib(path).Reductions.MaxToHost(x.View, n), f.Lib(path).Reductions.L2NormToHost(x.View, n)],
            [device[0], device[2], device[4]], "to host");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void EmptyInputGivesTheIdentity(KernelPath path)
    {
        using var x = Tensor.Zeros(f.Device, 1);
        var ops = f.Lib(path).Reductions;
        Assert.Equal(0f, ops.ReduceToHost(ReductionKind.Sum, x.View, 0));
        Assert.Equal(float.NegativeInfinity, ops.ReduceToHost(ReductionKind.Max, x.View, 0));
        Assert.Equal(0f, ops.ReduceToHost(ReductionKind.AbsMax, x.View, 0));
        Assert.Equal(0f, ops.ReduceToHost(ReductionKind.L2Norm, x.View, 0));
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void MaxPropagatesNaN(KernelPath path)
    {
        var data = Reference.Random(3000, 9);
        data[2500] = float.NaN;
        using var x = f.Upload(data, data.Length);
        Assert.True(float.IsNaN(f.Lib(path).Reductions.MaxToHost(x.View, data.Length)));
        Assert.True(float.IsNaN(f.Lib(path).Reductions.ReduceToHost(ReductionKind.AbsMax, x.View, data.Length)));
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void BitwiseDeterministicAcrossRunsAndChunks(KernelPath path)
    {
        int n = 70000;
        var data = Reference.Random(n, 31, -1f, 1f);
        var first = RunAll(f.Lib(path), data);
        Reference.AssertBitwiseEqual(RunAll(f.Lib(path), data), first, "second run");
        using (var one = Device.Cpu(cpuChunks: 1))
            Reference.AssertBitwiseEqual(RunAll(new KernelLibrary(one, path), data), first, "cpuChunks 1");
        using (var three = Device.Cpu(cpuChunks: 3))
            Reference.AssertBitwiseEqual(RunAll(new KernelLibrary(three, path), data), first, "cpuChunks 3");

    }

    [Fact]
    public void GroupKernelsAndTheHostPathGiveTheChunkPathsBits()
    {
        // The GPU path (one group per block, shared-memory tree with barriers) runs on the CPU accelerator too;
        // the tree is the same for every group size, so it must reproduce the CPU chunk path bit for bit, as the host path must.
        int n = 3000, N = 3, C = 1100;
        var data = Reference.Random(N * C, 32, -1f, 1f);
        using var x = f.Upload(data, N * C);
        using var y = Tensor.Empty(f.Device, 2);
        using var rows = Tensor.Empty(f.Device, N);
        var chunked = f.Kernels.Reductions;
        Assert.Equal(0, chunked.GroupSize);
        chunked.Reduce(ReductionKind.SumOfSquares, x.View, n, y.View.SubView(0, 1));
        chunked.SumRows(x.View, rows.View, N, C);
        var expectRows = rows.ToArray();
        // The host path computes the same tree too.
        f.Ops.Reductions.Reduce(ReductionKind.SumOfSquares, x.View, n, y.View.SubView(1, 1));
        var host = y.ToArray();
        Reference.AssertBitwiseEqual([host[1]], [host[0]], "host path");
        f.Ops.Reductions.SumRows(x.View, rows.View, N, C);
        Reference.AssertBitwiseEqual(rows.ToArray(), expectRows, "rows, host path");
        foreach (int g in new[] { 1, 8, 64 })
        {
            var grouped = new Reductions(f.Ops.Cache, g, KernelPath.Kernel);
            grouped.Reduce(ReductionKind.SumOfSquares, x.View, n, y.View.SubView(1, 1));
            var got = y.ToArray();
            Reference.AssertBitwiseEqual([got[1]], [got[0]], $"group size {g}");
            grouped.SumRows(x.View, rows.View, N, C);
            Reference.AssertBitwiseEqual(rows.ToArray(), expectRows, $"rows, group size {g}");
        }
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void ListOfViewsMatchesFloat64AndIsDeterministic(KernelPath path)
    {
        int[] sizes = [1, 1023, 0, 1025, 5000, 3];
        var arrays = sizes.Select((n, i) => Reference.Random(n, 40 + (ulong)i, -1f, 1f)).ToArray();
        float[] Run(KernelLibrary ops)
        {
            var tensors = arrays.Select(a => Tensor.FromArray(ops.Device, a, a.Length)).ToList();
            try
            {
                var views = tensors.Select(t => t.View).ToList();
                Assert.Equal(1 + 1 + 2 + 5 + 1 + 0, ops.Reductions.ScratchLength(views) - ops.Reductions.ScratchLength([]));
                using var r = Tensor.Empty(ops.Device, 3);
                ops.Reductions.SumOfSquares(views, r.View.SubView(0, 1));
                ops.Reductions.L2Norm(views, r.View.SubView(1, 1));
                ops.Reductions.Reduce(ReductionKind.Max, views, r.View.SubView(2, 1));
                return r.ToArray();
            }
            finally { tensors.ForEach(t => t.Dispose()); }
        }
        var all = arrays.SelectMany(a => a).ToArray();
        var got = Run(f.Lib(path));
        AssertMatches(ReductionKind.SumOfSquares, got[0], Expected(ReductionKind.SumOfSquares, all), "sum of squares");
        AssertMatches(ReductionKind.L2Norm, got[1], Expected(ReductionKind.L2Norm, all), "norm");
        AssertMatches(ReductionKind.Max, got[2], Expected(ReductionKind.Max, all), "max");
        Reference.AssertBitwiseEqual(Run(f.Lib(path)), got, "second run");
        using var three = Device.Cpu(cpuChunks: 3);
        Reference.AssertBitwiseEqual(Run(new KernelLibrary(three, path)), got, "cpuChunks 3");

        using var empty = Tensor.Empty(f.Device, 1);
        f.Lib(path).Reductions.L2Norm(new List<ArrayView<float>>(), empty.View);
        Assert.Equal(0f, empty.ToArray()[0]);
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 1, 1)]
    [InlineData(KernelPath.Host, 1, 1)]
    [InlineData(KernelPath.Kernel, 5, 7)]
    [InlineData(KernelPath.Host, 5, 7)]
    [InlineData(KernelPath.Kernel, 3, 1024)]
    [InlineData(KernelPath.Host, 3, 1024)]
    [InlineData(KernelPath.Kernel, 4, 2500)]
    [InlineData(KernelPath.Host, 4, 2500)]
    public void RowsMatchFloat64(KernelPath path, int N, int C)
    {
        var data = Reference.Random(N * C, 50 + (ulong)C, -1f, 2f);
        using var x = f.Upload(data, N, C);
        using var y = Tensor.Empty(f.Device, N);
        foreach (var kind in AllKinds)
        {
            if (kind == ReductionKind.Sum) f.Lib(path).Reductions.SumRows(x.View, y.View, N, C);
            else f.Lib(path).Reductions.ReduceRows(kind, x.View, y.View, N, C);
            var got = y.ToArray();
            for (int r = 0; r < N; r++)
                AssertMatches(kind, got[r], Expected(kind, data.Skip(r * C).Take(C)), $"{kind} row {r} of [{N}, {C}]");
        }
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void ShortViewsAreClearErrors(KernelPath path)
    {
        using var x = Tensor.Zeros(f.Device, 2000);
        using var small = Tensor.Zeros(f.Device, 1);
        var e = Assert.Throws<ArgumentException>(() => f.Lib(path).Reductions.Sum(x.View, 2001, small.View));
        Assert.Contains("need 2001", e.Message);
        var s = Assert.Throws<ArgumentException>(() => f.Lib(path).Reductions.Reduce(ReductionKind.Sum, x.View, 2000, small.View, small.View.SubView(0, 1)));
        Assert.Contains("scratch", s.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Reductions(f.Lib(path).Cache, 3));
    }
}
