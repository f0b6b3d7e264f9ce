using ILGPU;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class GradClipTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private static readonly int[] Sizes = [3, 1500, 1, 2049];

    private static float[][] Grads() => Sizes.Select((n, i) => Reference.Random(n, 300 + (ulong)i, -1f, 1f)).ToArray();

    private static double Norm(float[][] grads) => Math.Sqrt(grads.SelectMany(g => g).Sum(x => (double)x * x));

    /// <summary>Clips copies of <paramref name="grads"/> on a device; returns the clipped grads, norm and coefficient.</summary>
    private static (float[][] Grads, float Norm, float Coef) Clip(KernelLibrary ops, float[][] grads, float maxNorm)
    {
        var tensors = grads.Select(g => Tensor.FromArray(ops.Device, g, g.Length)).ToList();
        try
        {
            using var s = new ClipScalars(ops.Device);
            ops.GradClip.Clip(tensors.Select(t => t.View).ToList(), maxNorm, s);
            return (tensors.Select(t => t.ToArray()).ToArray(), s.NormToHost(), s.CoefficientToHost());
        }
        finally { tensors.ForEach(t => t.Dispose()); }
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void NormAboveMaxScalesGradientsLikeTorch(KernelPath path)
    {
        var grads = Grads();
        double norm = Norm(grads);
        float maxNorm = (float)(norm / 4);
        var (clipped, gotNorm, coef) = Clip(f.Lib(path), grads, maxNorm);
        Reference.AssertClose([gotNorm], [norm], 1e-6, "norm");
        double expectedCoef = maxNorm / (norm + 1e-6);
        Reference.AssertClose([coef], [expectedCoef], 1e-6, "coefficient");
        for (int k = 0; k < grads.Length; k++)
        {
            Reference.AssertClose(clipped[k], grads[k].Select(x => x * expectedCoef).ToArray(), 1e-6, $"grad {k}");
            Reference.AssertBitwiseEqual(clipped[k], grads[k].Select(x => x * coef).ToArray(), $"grad {k} = g·coef in float");
        }
        Reference.AssertClose([(float)Math.Sqrt(clipped.SelectMany(g => g).Sum(x => (double)x * x))], [(double)maxNorm], 1e-5, "clipped norm");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void NormBelowMaxLeavesGradientsUnchanged(KernelPath path)
    {
        var grads = Grads();
        double norm = Norm(grads);
        var (clipped, gotNorm, coef) = Clip(f.Lib(path), grads, (float)(norm * 2));
        Reference.AssertClose([gotNorm], [norm], 1e-6, "norm");
        Assert.Equal(1f, coef);
        for (int k = 0; k < grads.Length; k++) Reference.AssertBitwiseEqual(clipped[k], grads[k], $"grad {k}");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, float.NaN)]
    [InlineData(KernelPath.Host, float.NaN)]
    [InlineData(KernelPath.Kernel, float.PositiveInfinity)]
    [InlineData(KernelPath.Host, float.NegativeInfinity)]
    public void ANonFiniteGradientMakesAdamWSkipTheUpdateOnTheDevice(KernelPath path, float bad)
    {
        // One non-finite gradient element anywhere: the norm is non-finite, the coefficient NaN, and AdamW leaves the
        // weights and both moments exactly as they were; with clipping (max norm 1) and without (max norm float.MaxValue).
        foreach (float maxNorm in new[] { 1f, float.MaxValue })
        {
            var grads = Grads();
            grads[^1][grads[^1].Length / 2] = bad;
            int n = grads[1].Length;
            var p0 = Reference.Random(n, 302, -1f, 1f);
            var m0 = Reference.Random(n, 303, -0.1f, 0.1f);
            var v0 = Reference.Random(n, 304, 0f, 0.1f);
            var tensors = grads.Select(g => f.Upload(g, g.Length)).ToList();
            using var s = new ClipScalars(f.Device);
            f.Lib(path).GradClip.ComputeCoefficient(tensors.Select(t => t.View).ToList(), maxNorm, s);
            Assert.False(float.IsFinite(s.NormToHost()));
            Assert.True(float.IsNaN(s.CoefficientToHost()));
            using var p = f.Upload(p0, n); using var m = f.Upload(m0, n); using var v = f.Upload(v0, n);
            f.Lib(path).AdamW.Step(p.View, tensors[1].View, m.View, v.View, n, 3, 1e-3, 0.9, 0.95, 1e-8, 0.1, s.Coefficient.View);
            f.Lib(path).AdamW.Step(p.View, tensors[1].View, m.View, v.View, n, 4, 1e-3, 0.9, 0.95, 1e-8, 0.1, float.NaN);
            Reference.AssertBitwiseEqual(p.ToArray(), p0, "weights after a non-finite step");
            Reference.AssertBitwiseEqual(m.ToArray(), m0, "first moments after a non-finite step");
            Reference.AssertBitwiseEqual(v.ToArray(), v0, "second moments after a non-finite step");
            tensors.ForEach(t => t.Dispose());
        }
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void CoefficientFeedsAdamWWithoutTouchingGradients(KernelPath path)
    {
        var grads = Grads();
        float maxNorm = (float)(Norm(grads) / 3);
        int n = grads[1].Length;
        var p0 = Reference.Random(n, 301, -1f, 1f);

        // Path A: clip in place, then AdamW with scale 1.
        var (clipped, _, _) = Clip(f.Lib(path), grads, maxNorm);
        using var pA = f.Upload(p0, n); using var mA = Tensor.Zeros(f.Device, n); using var vA = Tensor.Zeros(f.Device, n);
        using var gA = f.Upload(clipped[1], n);
        f.Lib(path).AdamW.Step(pA.View, gA.View, mA.View, vA.View, n, 1, 1e-3, 0.9, 0.95, 1e-8, 0.1);

        // Path B: coefficient only, consumed by AdamW's device scale.
        var tensors = grads.Select(g => f.Upload(g, g.Length)).ToList();
        using var s = new ClipScalars(f.Device);
        f.Lib(path).GradClip.ComputeCoefficient(tensors.Select(t => t.View).ToList(), maxNorm, s);
        using var pB = f.Upload(p0, n); using var mB = Tensor.Zeros(f.Device, n); using var vB = Tensor.Zeros(f.Device, n);
        f.Lib(path).AdamW.Step(pB.View, tensors[1].View, mB.View, vB.View, n, 1, 1e-3, 0.9, 0.95, 1e-8, 0.1, s.Coefficient.View);

        Reference.AssertBitwiseEqual(pB.ToArray(), pA.ToArray(), "p via coefficient vs clipped grads");
        Reference.AssertBitwiseEqual(vB.ToArray(), vA.ToArray(), "v via coefficient vs clipped grads");
        Reference.AssertBitwiseEqual(tensors[1].ToArray(), grads[1], "gradients untouched");
        tensors.ForEach(t => t.Dispose());
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void BitwiseDeterministicAcrossChunks(KernelPath path)
    {
        var grads = Grads();
        float maxNorm = (float)(Norm(grads) / 2);
        var first = Clip(f.Lib(path), grads, maxNorm);
        using var three = Device.Cpu(cpuChunks: 3);
        var other = Clip(new KernelLibrary(three, path), grads, maxNorm);
        Assert.Equal(BitConverter.SingleToInt32Bits(first.Norm), BitConverter.SingleToInt32Bits(other.Norm));
        for (int k = 0; k < grads.Length; k++) Reference.AssertBitwiseEqual(other.Grads[k], first.Grads[k], $"grad {k}");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void NonPositiveMaxNormIsAClearError(KernelPath path)
    {
        using var s = new ClipScalars(f.Device);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => f.Lib(path).GradClip.ComputeCoefficient(new List<ArrayView<float>>(), 0f, s));
        Assert.Contains("max norm", e.Message);
    }
}
