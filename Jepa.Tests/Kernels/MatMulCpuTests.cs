using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Kernels.Cpu;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

/// <summary>The SIMD host path of MatMul on the CPU accelerator: which path runs, host vs the ILGPU kernel,
/// batch sums across K blocks, and every micro-tile instruction set. The float64 and determinism checks
/// shared with the kernel are in <see cref="MatMulTests"/>.</summary>
public sealed class MatMulCpuTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    [Fact]
    public void CpuDeviceDefaultsToTheHostPathAndTheKernelCanBeForced()
    {
        Assert.Equal(KernelPath.Host, f.Ops.MatMul.Path);
        Assert.Equal(KernelPath.Host, new MatMul(f.Ops.Cache).Path);
        Assert.Equal(KernelPath.Host, new MatMul(f.Ops.Cache, path: KernelPath.Host).Path);
        Assert.Equal(KernelPath.Kernel, new MatMul(f.Ops.Cache, path: KernelPath.Kernel).Path);
    }

    /// <summary>Both paths on the same batched product (A shared by the batch, C with gaps, α and β): they agree
    /// up to rounding.</summary>
    [Theory]
    [InlineData(MatMulForm.NN)]
    [InlineData(MatMulForm.NT)]
    [InlineData(MatMulForm.TN)]
    public void HostMatchesKernel(MatMulForm form)
    {
        const int M = 37, N = 45, K = 70, count = 2;
        var s = new MatMulBatch(count, 0, K * N, M * N + 3);
        int la = M * K, lb = MatMulTests.Extent(count, s.StrideB, K * N), lc = MatMulTests.Extent(count, s.StrideC, M * N);
        var a = Reference.Random(la, 71); var b = Reference.Random(lb, 72); var c0 = Reference.Random(lc, 73);
        float[] Run(KernelPath path)
        {
            using var ta = f.Upload(a, la); using var tb = f.Upload(b, lb); using var tc = f.Upload(c0, lc);
            new MatMul(f.Ops.Cache, path: path).Forward(form, ta.View, tb.View, tc.View, M, N, K, alpha: -0.5f, beta: 0.25f, batch: s);
            return tc.ToArray();
        }
        var kernel = Run(KernelPath.Kernel);
        Reference.AssertClose(Run(KernelPath.Host), Reference.ToDouble(kernel), 1e-6, $"{form} host vs kernel");
    }

    /// <summary>A C stride of 0 with K past one block: the host path chains the sum over the batch and every
    /// K block of each product, in order, with a broadcast A.</summary>
    [Theory]
    [InlineData(MatMulForm.NT)]
    [InlineData(MatMulForm.TN)]
    public void BatchSumSpansKBlocks(MatMulForm form)
    {
        const int M = 50, N = 40, K = 300, count = 3;
        var s = new MatMulBatch(count, 0, K * N, 0);
        int lb = MatMulTests.Extent(count, s.StrideB, K * N);
        var a = Reference.Random(M * K, 81); var b = Reference.Random(lb, 82); var c0 = Reference.Random(M * N, 83);
        using var ta = f.Upload(a, M * K); using var tb = f.Upload(b, lb); using var tc = f.Upload(c0, M * N);
        f.Ops.MatMul.Forward(form, ta.View, tb.View, tc.View, M, N, K, alpha: 2f, beta: 1f, batch: s);
        var want = MatMulTests.Expected(form, Reference.ToDouble(a), Reference.ToDouble(b), Reference.ToDouble(c0), M, N, K, s, 2, 1, M * N);
        Reference.AssertClose(tc.ToArray(), want, 1e-6, $"{form} batch sum over K blocks");
    }

    /// <summary>Every instruction set this machine runs, against float64 on a shape with edge tiles and two K
    /// blocks; the plain Vector256 tile and the scalar tile round identically, so they agree bitwise.</summary>
    [Theory]
    [InlineData(MatMulForm.NN)]
    [InlineData(MatMulForm.NT)]
    [InlineData(MatMulForm.TN)]
    public void EveryInstructionSetMatchesFloat64(MatMulForm form)
    {
        const int M = 45, N = 37, K = 300;
        const float alpha = 0.5f, beta = -1f;
        var a = Reference.Random(M * K, 91); var b = Reference.Random(K * N, 92); var c0 = Reference.Random(M * N, 93);
        var want = MatMulTests.Expected(form, Reference.ToDouble(a), Reference.ToDouble(b), Reference.ToDouble(c0), M, N, K,
            MatMulBatch.Single, alpha, beta, M * N);
        var results = new Dictionary<MatMulSimd, float[]>();
        foreach (var simd in new[] { MatMulSimd.Fma, MatMulSimd.Vector, MatMulSimd.Scalar })
        {
            if (simd == MatMulSimd.Fma && !(Fma.IsSupported && Vector256.IsHardwareAccelerated)) continue;
            var c = (float[])c0.Clone();
            Multiply(new MatMulCpu(2, simd), form, a, b, c, M, N, K, alpha, beta);
            Reference.AssertClose(c, want, 1e-6, $"{form} {simd}");
            results[simd] = c;
        }
        Reference.AssertBitwiseEqual(results[MatMulSimd.Vector], results[MatMulSimd.Scalar], $"{form} Vector vs Scalar");
        Assert.Equal(MatMulSimdSupport.Best, Fma.IsSupported && Vector256.IsHardwareAccelerated ? MatMulSimd.Fma
            : Vector256.IsHardwareAccelerated ? MatMulSimd.Vector : MatMulSimd.Scalar);
    }

    /// <summary>Batch outputs taken group by group (a tiny packing cap, as for a large batch with separate B) give
    /// the bits of taking them all at once, with any thread count, across K blocks.</summary>
    [Theory]
    [InlineData(MatMulForm.NT)]
    [InlineData(MatMulForm.TN)]
    public void OutputGroupsDoNotChangeBits(MatMulForm form)
    {
        const int M = 70, N = 37, K = 600, count = 3;
        var s = new MatMulBatch(count, M * K, K * N, M * N);
        var a = Reference.Random(count * M * K, 94); var b = Reference.Random(count * K * N, 97); var c0 = Reference.Random(count * M * N, 98);
        float[] Run(MatMulCpu mm)
        {
            var c = (float[])c0.Clone();
            unsafe
            {
                fixed (float* pa = a, pb = b, pc = c) mm.Run(form, pa, pb, pc, M, N, K, s, 1f, -0.5f);
            }
            return c;
        }
        var all = Run(new MatMulCpu(2, MatMulSimdSupport.Best));
        Reference.AssertBitwiseEqual(Run(new MatMulCpu(3, MatMulSimdSupport.Best, packCap: 1)), all, $"{form} one output per group");
        Reference.AssertClose(all, MatMulTests.Expected(form, Reference.ToDouble(a), Reference.ToDouble(b), Reference.ToDouble(c0), M, N, K,
            s, 1, -0.5, count * M * N), 1e-6, $"{form} separate outputs");
    }

    private static unsafe void Multiply(MatMulCpu mm, MatMulForm form, float[] a, float[] b, float[] c, int M, int N, int K, float alpha, float beta)
    {
        fixed (float* pa = a, pb = b, pc = c)
            mm.Run(form, pa, pb, pc, M, N, K, MatMulBatch.Single, alpha, beta);
    }
}
