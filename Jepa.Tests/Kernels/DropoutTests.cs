using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class DropoutTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private const ulong Seed = 0x5EED, Stream = 3;

    /// <summary>The float64 reference: x/(1−p) where the Philox mask keeps, else 0.</summary>
    private static double[] Expected(float[] x, float p, ulong seed, ulong stream) => Expected(Reference.ToDouble(x), p, seed, stream);

    private static double[] Expected(double[] x, float p, ulong seed, ulong stream) =>
        x.Select((v, i) => Dropout.Keeps(seed, stream, i, p) ? v / (1.0 - p) : 0.0).ToArray();

    [Theory]
    [InlineData(KernelPath.Kernel, 1, 0.5f)]
    [InlineData(KernelPath.Host, 1, 0.5f)]
    [InlineData(KernelPath.Kernel, 37, 0.1f)]
    [InlineData(KernelPath.Host, 37, 0.1f)]
    [InlineData(KernelPath.Kernel, 1000, 0.3f)]
    [InlineData(KernelPath.Host, 1000, 0.3f)]
    [InlineData(KernelPath.Host, 1000, 0f)]
    public void ForwardMatchesTheHostPhiloxReference(KernelPath path, int n, float p)
    {
        var x = Reference.Random(n, 1);
        using var tx = f.Upload(x, n); using var y = Tensor.Empty(f.Device, n);
        f.Lib(path).Dropout.Forward(tx.View, y.View, n, p, Seed, Stream);
        var got = y.ToArray();
        var want = Expected(x, p, Seed, Stream);
        Reference.AssertClose(got, want, 1e-7, "dropout");
        for (int i = 0; i < n; i++) Assert.Equal(want[i] == 0, got[i] == 0); // the same mask, element by element
    }

    [Fact]
    public void MaskKeepsAboutOneMinusPAndScalesTheKept()
    {
        int n = 40000;
        var x = Enumerable.Repeat(1f, n).ToArray();
        using var tx = f.Upload(x, n); using var y = Tensor.Empty(f.Device, n);
        foreach (float p in new[] { 0.1f, 0.5f, 0.9f })
        {
            f.Ops.Dropout.Forward(tx.View, y.View, n, p, Seed, Stream);
            var got = y.ToArray();
            double kept = got.Count(v => v != 0) / (double)n;
            Assert.InRange(kept, 1 - p - 0.015, 1 - p + 0.015);
            Assert.All(got.Where(v => v != 0), v => Assert.Equal(1f / (1f - p), v));
            Assert.InRange(got.Average(), 0.95, 1.05); // inverted dropout keeps the mean
        }
        // another stream (or seed) gives another mask
        var a = new float[n]; var b = new float[n];
        f.Ops.Dropout.Forward(tx.View, y.View, n, 0.5f, Seed, 0); y.CopyTo(a);
        f.Ops.Dropout.Forward(tx.View, y.View, n, 0.5f, Seed, 1); y.CopyTo(b);
        Assert.InRange(a.Zip(b).Count(t => t.First != t.Second) / (double)n, 0.4, 0.6);
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void BackwardAccumulatesTheMaskedScaledGradient(KernelPath path)
    {
        int n = 53; float p = 0.4f;
        var x = Reference.Random(n, 2); var dy = Reference.Random(n, 3); var dx0 = Reference.Random(n, 4);
        using var tdy = f.Upload(dy, n); using var tdx = f.Upload(dx0, n);
        f.Lib(path).Dropout.Backward(tdy.View, tdx.View, n, p, Seed, Stream);
        // d/dx of Σ dy·dropout(x) by central differences of the float64 reference
        var numeric = GradCheck.Numeric(v => GradCheck.Dot(Expected(v, p, Seed, Stream), Reference.ToDouble(dy)),
            Reference.ToDouble(x), h: 1e-3);
        Reference.AssertClose(Accumulation.Delta(tdx.ToArray(), dx0), numeric, 1e-5, "dx (finite differences)"); // the delta carries dx0's rounding
        Reference.AssertClose(tdx.ToArray(), Enumerable.Range(0, n).Select(i => dx0[i] + (Dropout.Keeps(Seed, Stream, i, p) ? dy[i] / (1.0 - p) : 0)).ToArray(), 1e-6, "dx");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void IsBitwiseRepeatableAndIndependentOfChunks(KernelPath path)
    {
        int n = 5003; float p = 0.25f;
        var x = Reference.Random(n, 5); var dy = Reference.Random(n, 6);
        Determinism.AssertRepeatableAndChunkIndependent(f, ops =>
        {
            using var tx = Tensor.FromArray(ops.Device, x, n); using var y = Tensor.Empty(ops.Device, n);
            using var tdy = Tensor.FromArray(ops.Device, dy, n); using var dx = Tensor.FromArray(ops.Device, dy, n);
            ops.Dropout.Forward(tx.View, y.View, n, p, Seed, Stream);
            ops.Dropout.Backward(tdy.View, dx.View, n, p, Seed, Stream);
            return [.. y.ToArray(), .. dx.ToArray()];
        }, "dropout", path);
    }

    [Fact]
    public void KernelAndHostPathsAgreeBitwise()
    {
        int n = 777; float p = 0.3f;
        var x = Reference.Random(n, 8);
        using var tx = f.Upload(x, n); using var a = Tensor.Empty(f.Device, n); using var b = Tensor.Empty(f.Device, n);
        f.Kernels.Dropout.Forward(tx.View, a.View, n, p, Seed, Stream);
        f.Ops.Dropout.Forward(tx.View, b.View, n, p, Seed, Stream);
        Reference.AssertBitwiseEqual(a.ToArray(), b.ToArray(), "kernel vs host");
    }

    // Sizes across several host ranges (16384 elements each) with ragged ends, so the host path's eight-block vector
    // groups, its scalar tails and the kernel all meet; x holds NaN and dx −0 so that the select of dropped elements shows.
    [Theory]
    [InlineData(31, 0.5f)]
    [InlineData(2 * 16384 + 45, 0.05f)]
    public void KernelAndHostPathsAgreeBitwiseForwardAndBackward(int n, float p)
    {
        var x = Reference.Random(n, 11); var dy = Reference.Random(n, 12); var dx0 = Reference.Random(n, 13);
        for (int i = 0; i < n; i += 7) { x[i] = float.NaN; dx0[i] = -0f; }
        float[] Run(KernelPath path)
        {
            using var tx = f.Upload(x, n); using var y = Tensor.Empty(f.Device, n);
            using var tdy = f.Upload(dy, n); using var dx = f.Upload(dx0, n);
            f.Lib(path).Dropout.Forward(tx.View, y.View, n, p, Seed, Stream);
            f.Lib(path).Dropout.Backward(tdy.View, dx.View, n, p, Seed, Stream);
            return [.. y.ToArray(), .. dx.ToArray()];
        }
        Reference.AssertBitwiseEqual(Run(KernelPath.Kernel), Run(KernelPath.Host), "kernel vs host");
    }

    [Fact]
    public void KernelsAreInTheCatalogThePtxTestCompiles()
    {
        var names = KernelCatalog.All().Select(e => e.Name).ToHashSet();
        Assert.Contains("Dropout.ForwardKernel", names);
        Assert.Contains("Dropout.BackwardKernel", names);
    }

    [Fact]
    public void RejectsAProbabilityOutsideZeroToOne()
    {
        using var t = Tensor.Empty(f.Device, 4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => f.Ops.Dropout.Forward(t.View, t.View, 4, 1f, Seed, Stream));
        Assert.Contains("[0, 1)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Ops.Dropout.Backward(t.View, t.View, 4, -0.1f, Seed, Stream));
    }
}
