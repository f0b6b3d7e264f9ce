namespace Jepa.Core;

/// <summary>How to pick and configure a <see cref="Device"/>.</summary>
public sealed record DeviceOptions
{
    /// <summary>Environment variable that overrides the automatic choice: <c>cpu</c>, <c>cuda</c> or <c>opencl</c>.</summary>
    public const string EnvironmentVariable = "JEPA_DEVICE";

    /// <summary>The kind to use; null picks <c>JEPA_DEVICE</c> if set, else CUDA, then OpenCL, then the CPU.</summary>
    public DeviceKind? Kind { get; init; }

    /// <summary>Index among the accelerators of the chosen kind.</summary>
    public int Index { get; init; }

    /// <summary>Coarse chunks per kernel on the CPU accelerator. Results do not depend on it.</summary>
    public int CpuChunks { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>The arithmetic of the linear layers' forward products: float32 (the default, bitwise reproducible), or TF32 or
    /// BF16 on tensor cores (CUDA, SM 80 and newer; a clear error elsewhere).</summary>
    public MatMulPrecision MatMulPrecision { get; init; } = MatMulPrecision.Fp32;
}
