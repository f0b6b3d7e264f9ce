namespace Jepa.Kernels;

/// <summary>
/// Which implementation <see cref="MatMul"/> runs. Both compute the same products with the same α, β and
/// batch semantics; they differ in rounding (each is deterministic on its own).
/// </summary>
public enum MatMulPath
{
    /// <summary>The SIMD host path on the CPU accelerator, the ILGPU kernel everywhere else.</summary>
    Auto,

    /// <summary>The shared-memory tiled ILGPU kernel, on any accelerator (on the CPU accelerator it is slow:
    /// about 0.1–0.2 GFLOP/s; use it there to test the kernel).</summary>
    Kernel,

    /// <summary>The SIMD host implementation working in place on the CPU accelerator's buffers; only
    /// valid on the CPU accelerator.</summary>
    Host,
}
