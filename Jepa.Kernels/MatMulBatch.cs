namespace Jepa.Kernels;

/// <summary>
/// How a batch of matrix products lies in memory: product <c>i</c> reads A at <c>i·StrideA</c>, B at
/// <c>i·StrideB</c> and writes C at <c>i·StrideC</c> (strides in elements).
/// A stride of 0 for A or B broadcasts that operand (one weight shared by the batch). A stride of 0 for C
/// sums the whole batch into one C: <c>C = α·Σᵢ op(A[i])·op(B[i]) + β·C</c>, the gradient of a
/// broadcast operand.
/// </summary>
/// <param name="Count">Number of products (at least 1).</param>
/// <param name="StrideA">Elements between consecutive A matrices (0 broadcasts A).</param>
/// <param name="StrideB">Elements between consecutive B matrices (0 broadcasts B).</param>
/// <param name="StrideC">Elements between consecutive C matrices (0 sums the batch into one C).</param>
public readonly record struct MatMulBatch(int Count, long StrideA, long StrideB, long StrideC)
{
    /// <summary>One product, no batch.</summary>
    public static MatMulBatch Single => new(1, 0, 0, 0);
}
