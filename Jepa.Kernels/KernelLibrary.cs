using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Every op of the library, bound to one device. Ops compile their kernels on first use and keep them
/// for the device's lifetime. Create one per device and share it.
/// </summary>
public sealed class KernelLibrary
{
    /// <summary>Binds the library to <paramref name="device"/>.</summary>
    public KernelLibrary(Device device)
    {
        Device = device;
        Cache = new KernelCache(device);
        Elementwise = new Elementwise(Cache);
        Reductions = new Reductions(Cache);
        AdamW = new AdamW(Cache);
        GradClip = new GradClip(Cache);
    }

    /// <summary>The device every op runs on.</summary>
    public Device Device { get; }

    /// <summary>The loaded kernels.</summary>
    public KernelCache Cache { get; }

    /// <summary>Add, mul, scale, bias, axpy, copy, fill.</summary>
    public Elementwise Elementwise { get; }

    /// <summary>Deterministic sum, sum of squares, max, max |x|, L2 norm: whole views, rows, lists of views.</summary>
    public Reductions Reductions { get; }

    /// <summary>The fused AdamW update (torch.optim.AdamW semantics).</summary>
    public AdamW AdamW { get; }

    /// <summary>Global-norm gradient clipping on the device.</summary>
    public GradClip GradClip { get; }
}
