using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Training.Benchmarks;

/// <summary>The throughput of square matrix products through <see cref="KernelLibrary.MatMul"/>.</summary>
/// <param name="Form">The product's form (<see cref="MatMulForm.NN"/>: C = A·B; <see cref="MatMulForm.NT"/>: C = A·Bᵀ).</param>
/// <param name="Size">Matrix side n (M = N = K = n).</param>
/// <param name="MedianMs">Median wall time of one product and a device synchronization, in milliseconds.</param>
/// <param name="Gflops">2·n³ divided by the median time, in GFLOP/s.</param>
public sealed record MatMulTiming(MatMulForm Form, int Size, double MedianMs, double Gflops)
{
    /// <summary>
    /// Times <paramref name="runs"/> products C[n, n] = op(A)·op(B) on random inputs after one untimed product
    /// (which loads the kernel), each followed by a device synchronization, and returns the median.
    /// </summary>
    public static MatMulTiming Measure(KernelLibrary ops, MatMulForm form, int n, int runs = 5)
    {
        ArgumentNullException.ThrowIfNull(ops);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        var device = ops.Device;
        var data = new float[n * n];
        Philox.FillUniform(data, seed: 1, stream: 0, -1f, 1f);
        using var a = Tensor.FromArray(device, data, n, n);
        Philox.FillUniform(data, seed: 2, stream: 0, -1f, 1f);
        using var b = Tensor.FromArray(device, data, n, n);
        using var c = Tensor.Empty(device, n, n);
        void Product()
        {
            ops.MatMul.Forward(form, a.View, b.View, c.View, n, n, n);
            device.Synchronize();
        }
        Product();
        double median = BenchStatistics.MedianMs(Product, runs);
        return new MatMulTiming(form, n, median, 2.0 * n * n * (double)n / (median / 1000.0) / 1e9);
    }
}
