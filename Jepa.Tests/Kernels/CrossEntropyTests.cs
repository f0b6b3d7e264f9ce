using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class CrossEntropyTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private const int Ignore = CrossEntropy.DefaultIgnoreIndex;

    /// <summary>Random targets in [0, V); every fourth row (from row 1) is ignored.</summary>
    private static int[] Targets(int n, int vocab, ulong seed)
    {
        var u = Reference.Random(n, seed, 0f, 1f);
        return Enumerable.Range(0, n).Select(i => i % 4 == 1 ? Ignore : Math.Min(vocab - 1, (int)(u[i] * vocab))).ToArray();
    }

    private static double LogSumExp(double[] x, int off, int V)
    {
        double m = double.NegativeInfinity;
        for (int v = 0; v < V; v++) m = Math.Max(m, x[off + v]);
        double s = 0;
        for (int v = 0; v < V; v++) s += Math.Exp(x[off + v] - m);
        return m + Math.Log(s);
    }

    private static double[] RowLossRef(double[] logits, int[] targets, int V) =>
        targets.Select((y, n) => y == Ignore ? 0 : LogSumExp(logits, n * V, V) - logits[n * V + y]).ToArray();

    private static double MeanLossRef(double[] logits, int[] targets, int V)
    {
        int count = targets.Count(y => y != Ignore);
        return count == 0 ? 0 : RowLossRef(logits, targets, V).Sum() / count;
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 1, 1)]
    [InlineData(KernelPath.Host, 1, 1)]
    [InlineData(KernelPath.Kernel, 6, 13)]
    [InlineData(KernelPath.Host, 6, 13)]
    [InlineData(KernelPath.Kernel, 9, 1000)]
    [InlineData(KernelPath.Host, 9, 1000)]
    [InlineData(KernelPath.Kernel, 3, 32003)]
    [InlineData(KernelPath.Host, 3, 32003)]
    public void ForwardMatchesFloat64(KernelPath path, int N, int V)
    {
        var x = Reference.Random(N * V, 1, -4f, 4f);
        var targets = Targets(N, V, 2);
        int count = CrossEntropy.CountTargets(targets, V);
        Assert.Equal(targets.Count(y => y != Ignore), count);
        using var tx = f.Upload(x, N, V); using var ty = f.Device.Accelerator.Allocate1D(targets);
        using var losses = Tensor.Empty(f.Device, N); using var lse = Tensor.Empty(f.Device, N); using var loss = Tensor.Empty(f.Device, 1);
        f.Lib(path).CrossEntropy.ForwardMean(tx.View, ty.View, losses.View, lse.View, loss.View, N, V, count);
        var xd = Reference.ToDouble(x);
        Reference.AssertClose(losses.ToArray(), RowLossRef(xd, targets, V), 1e-5, "row losses");
        var lseRef = targets.Select((y, n) => y == Ignore ? 0 : LogSumExp(xd, n * V, V)).ToArray();
        Reference.AssertClose(lse.ToArray(), lseRef, 1e-6, "logsumexp");
        Reference.AssertClose(loss.ToArray(), [MeanLossRef(xd, targets, V)], 1e-5, "mean loss");
    }

    [Theory]
    [InlineData(2, 11)]
    [InlineData(1, 100)]
    public void CooperativeRowGroupsMatchFloat64(int N, int V)
    {
        // The GPU path (a 16-thread group per row, two CPU warps, shared-memory tree) run on the CPU
        // accelerator; kept tiny because CPU barriers are slow.
        var ce = new CrossEntropy(f.Ops.Cache, rowGroupCap: 16, path: KernelPath.Kernel);
        var x = Reference.Random(N * V, 12, -4f, 4f);
        int[] targets = Enumerable.Range(0, N).Select(n => (7 * n + 3) % V).ToArray();
        using var tx = f.Upload(x, N, V); using var ty = f.Device.Accelerator.Allocate1D(targets);
        using var losses = Tensor.Empty(f.Device, N); using var lse = Tensor.Empty(f.Device, N);
        ce.Forward(tx.View, ty.View, losses.View, lse.View, N, V);
        var first = losses.ToArray();
        Reference.AssertClose(first, RowLossRef(Reference.ToDouble(x), targets, V), 1e-5, "row losses");
        ce.Forward(tx.View, ty.View, losses.View, lse.View, N, V);
        Reference.AssertBitwiseEqual(losses.ToArray(), first, "row losses twice");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void MeanSumsManyBlocksInFixedOrder(KernelPath path)
    {
        int N = 2500; // three reduction blocks
        var l = Reference.Random(N, 3, 0f, 5f);
        using var tl = f.Upload(l, N); using var loss = Tensor.Empty(f.Device, 1);
        f.Lib(path).CrossEntropy.Mean(tl.View, loss.View, N, 2000);
        Reference.AssertClose(loss.ToArray(), [l.Sum(v => (double)v) / 2000], 1e-6, "mean");

        // The mean is the library's deterministic sum (fixed blocks and tree) divided by the count.
        float expected = f.Lib(path).Reductions.SumToHost(tl.View, N);
        Reference.AssertBitwiseEqual(loss.ToArray(), [expected / 2000], "block order");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 5, 13)]
    [InlineData(KernelPath.Host, 5, 13)]
    [InlineData(KernelPath.Kernel, 3, 1000)]
    [InlineData(KernelPath.Host, 3, 1000)]
    public void BackwardMatchesFiniteDifferencesAndAccumulates(KernelPath path, int N, int V)
    {
        var x = Reference.Random(N * V, 4, -3f, 3f);
        var targets = Targets(N, V, 5);
        int count = CrossEntropy.CountTargets(targets, V);
        var g0 = Reference.Random(N * V, 6);
        const float dloss = 0.75f;
        using var tx = f.Upload(x, N, V); using var ty = f.Device.Accelerator.Allocate1D(targets);
        using var losses = Tensor.Empty(f.Device, N); using var lse = Tensor.Empty(f.Device, N);
        using var fresh = Tensor.Zeros(f.Device, N, V); using var dx = f.Upload(g0, N, V);
        f.Lib(path).CrossEntropy.Forward(tx.View, ty.View, losses.View, lse.View, N, V);
        f.Lib(path).CrossEntropy.Backward(tx.View, ty.View, lse.View, fresh.View, N, V, count, dloss);
        f.Lib(path).CrossEntropy.Backward(tx.View, ty.View, lse.View, dx.View, N, V, count, dloss);
        var num = GradCheck.Numeric(xs => dloss * MeanLossRef(xs, targets, V), Reference.ToDouble(x));
        Reference.AssertClose(fresh.ToArray(), num, 1e-5, "dlogits");
        Reference.AssertClose(dx.ToArray(), num.Select((g, i) => g0[i] + g).ToArray(), 1e-6, "dlogits accumulated");
        // Ignored rows receive nothing.
        var got = dx.ToArray();
        for (int n = 0; n < N; n++)
            if (targets[n] == Ignore)
                for (int v = 0; v < V; v++) Assert.Equal(g0[n * V + v], got[n * V + v]);
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void AllRowsIgnoredGiveZeroLossAndNoGradient(KernelPath path)
    {
        int N = 3, V = 5;
        int[] targets = [Ignore, Ignore, Ignore];
        Assert.Equal(0, CrossEntropy.CountTargets(targets, V));
        var g0 = Reference.Random(N * V, 7);
        using var tx = f.Upload(Reference.Random(N * V, 8), N, V); using var ty = f.Device.Accelerator.Allocate1D(targets);
        using var losses = Tensor.Empty(f.Device, N); using var lse = Tensor.Empty(f.Device, N); using var loss = Tensor.Empty(f.Device, 1);
        using var dx = f.Upload(g0, N, V);
        f.Lib(path).CrossEntropy.ForwardMean(tx.View, ty.View, losses.View, lse.View, loss.View, N, V, 0);
        f.Lib(path).CrossEntropy.Backward(tx.View, ty.View, lse.View, dx.View, N, V, 0);
        Assert.Equal([0f], loss.ToArray());
        Assert.Equal(g0, dx.ToArray());
    }

    [Fact]
    public void OutOfRangeTargetIsAClearError()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropy.CountTargets([0, Ignore, 4, 7], 5));
        Assert.Contains("target 7 at position 3", e.Message);
        Assert.Contains("[0, 5)", e.Message);
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void ForwardAndBackwardAreDeterministic(KernelPath path)
    {
        int N = 1100, V = 37; // the mean spans two reduction blocks
        var x = Reference.Random(N * V, 9, -4f, 4f);
        var targets = Targets(N, V, 10);
        int count = CrossEntropy.CountTargets(targets, V);
        var g0 = Reference.Random(N * V, 11);
        float[][] Run(KernelLibrary ops)
        {
            using var tx = Tensor.FromArray(ops.Device, x, N, V); using var ty = ops.Device.Accelerator.Allocate1D(targets);
            using var losses = Tensor.Empty(ops.Device, N); using var lse = Tensor.Empty(ops.Device, N); using var loss = Tensor.Empty(ops.Device, 1);
            using var dx = Tensor.FromArray(ops.Device, g0, N, V);
            ops.CrossEntropy.ForwardMean(tx.View, ty.View, losses.View, lse.View, loss.View, N, V, count);
            ops.CrossEntropy.Backward(tx.View, ty.View, lse.View, dx.View, N, V, count);
            return [losses.ToArray(), lse.ToArray(), loss.ToArray(), dx.ToArray()];
        }
        var first = Run(f.Lib(path)); var second = Run(f.Lib(path));
        for (int i = 0; i < first.Length; i++) Reference.AssertBitwiseEqual(first[i], second[i], $"output {i} twice");
        ChunkRuns.AssertIndependentOfChunks(Run, "cross-entropy", path);
    }
}
