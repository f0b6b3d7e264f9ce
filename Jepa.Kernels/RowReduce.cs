using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Row-group launches for row ops (norms, softmax). Each group walks rows <c>Grid.IdxX, + Grid.DimX, …</c>;
/// inside a row its threads stride over the columns and combine their partials with a shared-memory tree
/// in a fixed pattern, so a row's result depends only on the row and the group size — never on the grid,
/// the schedule or the CPU thread count.
/// <para>Group size: on GPUs a power of two up to 256 and no wider than the row. On the CPU accelerator 1,
/// so no barrier runs: there every <c>Group.Barrier</c> synchronises real OS threads, and a softmax over a
/// 64 × 257 input took 3.5 s with groups of 64, 0.2 s with groups of 8 and 4 ms with groups of 1 (measured on
/// the 2-core development machine). Ops accept an explicit group size so tests can run the tree on the CPU.</para>
/// </summary>
internal static class RowReduce
{
    /// <summary>Checks a requested group size: 0 (the device's choice) or a power of two the device can run.</summary>
    public static int Validate(string op, KernelCache k, int groupSize)
    {
        int max = k.Device.Geometry.RowGroupSize(int.MaxValue);
        if (groupSize < 0 || groupSize > max || (groupSize & (groupSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, $"{op}: row group size must be 0 (device default) or a power of two up to {max}.");
        return groupSize;
    }

    /// <summary>Launch shape for <paramref name="rows"/> rows of <paramref name="cols"/> columns with one float of
    /// dynamic shared memory per thread; <paramref name="groupSize"/> 0 picks the device's size.</summary>
    public static KernelConfig Config(LaunchGeometry g, int rows, int cols, int groupSize)
    {
        int group = groupSize > 0 ? groupSize : g.IsGpu ? g.RowGroupSize(Math.Min(256, cols)) : 1;
        int grid = g.IsGpu ? rows : Math.Min(rows, g.CpuChunks);
        return new KernelConfig(new Index1D(grid), new Index1D(group), SharedMemoryConfig.RequestDynamic<float>(group));
    }

    /// <summary>Sum of <paramref name="v"/> over the group, returned to every thread. <paramref name="shared"/>
    /// holds at least one float per thread and may be reused as soon as this returns. Must be reached by
    /// every thread of the group.</summary>
    public static float Sum(ArrayView<float> shared, float v)
    {
        if (Group.DimX == 1) return v;
        int tid = Group.IdxX;
        shared[tid] = v;
        Group.Barrier();
        for (int s = Group.DimX >> 1; s > 0; s >>= 1)
        {
            if (tid < s) shared[tid] += shared[tid + s];
            Group.Barrier();
        }
        float r = shared[0];
        Group.Barrier();
        return r;
    }

    /// <summary>Maximum of <paramref name="v"/> over the group, returned to every thread (same contract as <see cref="Sum"/>).</summary>
    public static float Max(ArrayView<float> shared, float v)
    {
        if (Group.DimX == 1) return v;
        int tid = Group.IdxX;
        shared[tid] = v;
        Group.Barrier();
        for (int s = Group.DimX >> 1; s > 0; s >>= 1)
        {
            if (tid < s)
            {
                float o = shared[tid + s];
                if (o > shared[tid]) shared[tid] = o;
            }
            Group.Barrier();
        }
        float r = shared[0];
        Group.Barrier();
        return r;
    }
}
