using Jepa.Kernels;

namespace Jepa.Bench;

/// <summary>One measured matrix product: which MatMul path runs it and the matrix side n (M = N = K = n).</summary>
/// <param name="Path">The path (<see cref="MatMulPath.Host"/> or <see cref="MatMulPath.Kernel"/>).</param>
/// <param name="Size">Matrix side n.</param>
public sealed record MatMulCase(MatMulPath Path, int Size)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path}-{Size}";
}
