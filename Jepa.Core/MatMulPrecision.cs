namespace Jepa.Core;

/// <summary>The arithmetic of the linear layers' forward matrix products (<see cref="DeviceOptions.MatMulPrecision"/>).</summary>
public enum MatMulPrecision
{
    /// <summary>float32 fused multiply-adds, bitwise reproducible across tile sizes and thread counts (the default).</summary>
    Fp32,
    /// <summary>Tensor cores, inputs rounded to TF32 (10 mantissa bits), float32 accumulation (CUDA, SM 80 and newer).</summary>
    Tf32,
    /// <summary>Tensor cores, inputs rounded to BF16 (7 mantissa bits), float32 accumulation (CUDA, SM 80 and newer).</summary>
    Bf16,
}
