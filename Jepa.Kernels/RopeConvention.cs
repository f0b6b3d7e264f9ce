namespace Jepa.Kernels;

/// <summary>Which elements of a head vector of size D form the rotated pairs of <see cref="Rope"/>;
/// pair i always turns by <c>pos · θ^(−2i/D)</c>.</summary>
public enum RopeConvention
{
    /// <summary>Hugging Face / Llama <c>rotate_half</c>: pairs (i, i + D/2).</summary>
    RotateHalf,

    /// <summary>Original RoFormer / GPT-J / Meta Llama checkpoints: pairs (2i, 2i + 1).</summary>
    Interleaved,
}
