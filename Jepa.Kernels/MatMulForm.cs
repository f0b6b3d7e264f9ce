namespace Jepa.Kernels;

/// <summary>
/// Which operands of a row-major matrix product are read transposed: <c>C[M, N] = op(A)·op(B)</c>.
/// </summary>
public enum MatMulForm
{
    /// <summary><c>C = A·B</c> with A stored <c>[M, K]</c> and B stored <c>[K, N]</c>.</summary>
    NN,

    /// <summary><c>C = A·Bᵀ</c> with A stored <c>[M, K]</c> and B stored <c>[N, K]</c> (a linear layer
    /// <c>y = x·Wᵀ</c> with W in the Hugging Face <c>[out, in]</c> layout).</summary>
    NT,

    /// <summary><c>C = Aᵀ·B</c> with A stored <c>[K, M]</c> and B stored <c>[K, N]</c>.</summary>
    TN,
}
