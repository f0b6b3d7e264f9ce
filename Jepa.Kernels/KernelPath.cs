namespace Jepa.Kernels;

/// <summary>
/// Which implementation an op with a CPU fast path runs. Both have the same semantics (layouts, masking,
/// accumulated gradients, saved statistics); they differ only in rounding, and each is deterministic on its own.
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

/// <summary>Resolves a requested <see cref="KernelPath"/> for one op on one device.</summary>
internal static class KernelPaths
{
    /// <summary><see cref="KernelPath.Host"/> for <see cref="KernelPath.Auto"/> or <see cref="KernelPath.Host"/> on the CPU
    /// accelerator, else <see cref="KernelPath.Kernel"/>.</summary>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public static KernelPath Resolve(string op, KernelCache kernels, KernelPath path)
    {
        if (path is not (KernelPath.Auto or KernelPath.Kernel or KernelPath.Host))
            throw new ArgumentOutOfRangeException(nameof(path), path, $"{op}: unknown path.");
        bool gpu = kernels.Device.Geometry.IsGpu;
        if (path == KernelPath.Host && gpu)
            throw new ArgumentException($"{op}: the host path runs only on the CPU accelerator, not on {kernels.Device}; use {nameof(KernelPath)}.{nameof(KernelPath.Auto)} or {nameof(KernelPath.Kernel)}.", nameof(path));
        return path == KernelPath.Kernel || gpu ? KernelPath.Kernel : KernelPath.Host;
    }
}
