namespace Jepa.Kernels;

/// <summary>
/// Which implementation an op with a CPU fast path runs (matrix products, attention). Both have the same
/// semantics (layouts, masking, accumulated gradients); they differ only in rounding, and each is
/// deterministic on its own.
/// </summary>
public enum KernelPath
{
    /// <summary>The SIMD host path on the CPU accelerator, the ILGPU kernels everywhere else.</summary>
    Auto,

    /// <summary>The ILGPU kernels, on any accelerator (slow on the CPU accelerator: use them there to test the kernels).</summary>
    Kernel,

    /// <summary>The SIMD host implementation working in place on the CPU accelerator's buffers; only valid on
    /// the CPU accelerator.</summary>
    Host,
}
