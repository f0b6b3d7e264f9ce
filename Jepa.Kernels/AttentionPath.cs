namespace Jepa.Kernels;

/// <summary>
/// Which implementation <see cref="Attention"/> runs. Both have the same semantics (layouts, masking, lse,
/// scale, accumulated gradients); they differ only in rounding, and each is deterministic on its own.
/// </summary>
public enum AttentionPath
{
    /// <summary>The SIMD host path on the CPU accelerator, the ILGPU kernels everywhere else.</summary>
    Auto,

    /// <summary>The ILGPU kernels, on any accelerator (on the CPU accelerator they run at about
    /// 0.04 GFLOP/s; use them there to test the kernels).</summary>
    Kernel,

    /// <summary>The SIMD host implementation working in place on the CPU accelerator's buffers; only valid on
    /// the CPU accelerator.</summary>
    Host,
}
