namespace Jepa.Core;

/// <summary>
/// The one place that decides how work is split into kernel threads on an accelerator.
/// On GPUs every element (or tile) gets its own thread; on ILGPU's CPU accelerator one thread per element
/// costs ~300× more than a plain loop, so work is cut into a few coarse contiguous chunks instead.
/// Kernels are written once for both: thread <c>t</c> of <c>Threads(n)</c> handles the index range
/// <c>[t·per, min(n, (t+1)·per))</c> with <c>per = PerThread(n)</c>.
/// The split never changes a result: every output has one owner and reductions use fixed-size blocks
/// (<see cref="ReductionBlock"/>) whose order does not depend on the number of threads.
/// </summary>
public sealed class LaunchGeometry
{
    /// <summary>Fixed number of elements summed by one reduction block, on every device. Partial sums are
    /// then combined in block order, so a reduction's value does not depend on thread counts.</summary>
    public const int ReductionBlock = 1024;

    /// <summary>Creates the geometry for a device kind.</summary>
    /// <param name="kind">Accelerator kind.</param>
    /// <param name="cpuChunks">Number of coarse chunks on the CPU accelerator (ignored on GPUs).</param>
    /// <param name="maxGroupSize">Largest group the accelerator runs.</param>
    /// <param name="warpSize">The accelerator's warp size.</param>
    public LaunchGeometry(DeviceKind kind, int cpuChunks, int maxGroupSize, int warpSize)
    {
        if (cpuChunks < 1) throw new ArgumentOutOfRangeException(nameof(cpuChunks), cpuChunks, "CPU chunk count must be at least 1.");
        Kind = kind;
        CpuChunks = cpuChunks;
        MaxGroupSize = maxGroupSize;
        WarpSize = warpSize;
    }

    /// <summary>The accelerator kind this geometry is for.</summary>
    public DeviceKind Kind { get; }

    /// <summary>Coarse chunks used on the CPU accelerator.</summary>
    public int CpuChunks { get; }

    /// <summary>Largest group size the accelerator supports.</summary>
    public int MaxGroupSize { get; }

    /// <summary>The accelerator's warp size.</summary>
    public int WarpSize { get; }

    /// <summary>True on GPUs (CUDA, OpenCL), where one thread per element is cheap.</summary>
    public bool IsGpu => Kind != DeviceKind.Cpu;

    /// <summary>Number of threads to launch for a loop of <paramref name="n"/> independent items.</summary>
    public int Threads(long n)
    {
        if (n <= 0) return 0;
        if (IsGpu) return (int)Math.Min(n, int.MaxValue);
        return (int)Math.Min(n, CpuChunks);
    }

    /// <summary>Items handled by each thread when <see cref="Threads"/> threads cover <paramref name="n"/> items.</summary>
    public int PerThread(long n)
    {
        int t = Threads(n);
        return t == 0 ? 0 : (int)((n + t - 1) / t);
    }

    /// <summary>
    /// The default group for one-group-per-row kernels over rows of <paramref name="cols"/> elements: on GPUs a
    /// power of two up to 256 and no wider than the row; on the CPU accelerator 1, so no barrier runs (there
    /// every <c>Group.Barrier</c> synchronises OS threads: a 64 × 257 softmax took 3.5 s with groups of 64 and
    /// 4 ms with groups of 1 on the 2-core development machine).
    /// </summary>
    public int DefaultRowGroup(int cols) => IsGpu ? RowGroupSize(Math.Max(1, Math.Min(256, cols))) : 1;

    /// <summary>Group size for kernels that cooperate through shared memory over one row: a power of two,
    /// at most <paramref name="cap"/> and the accelerator's limit.</summary>
    public int RowGroupSize(int cap = 256)
    {
        int limit = Math.Min(cap, MaxGroupSize);
        if (!IsGpu) limit = Math.Min(limit, 64);
        int g = 1;
        while (g * 2 <= limit) g *= 2;
        return g;
    }
}
