using Jepa.Kernels;

namespace Jepa.Bench;

/// <summary>One measured matrix product: which MatMul path runs it and the matrix side n (M = N = K = n).</summary>
/// <param name="Path">The path (<see cref="KernelPath.Host"/> or <see cref="KernelPath.Kernel"/>).</param>
/// <param name="Size">Matrix side n.</param>
public sealed record MatMulCase(KernelPath Path, int Size)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path}-{Size}";
}
