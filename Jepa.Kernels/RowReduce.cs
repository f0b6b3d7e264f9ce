using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Row-group launches for row ops (norms, softmax). Each group walks rows <c>Grid.IdxX, + Grid.DimX, …</c>;
/// inside a row its threads stride over the columns and combine their partials with a shared-memory tree
/// in a fixed pattern, so a row's result depends only on the row and the group size — never on the grid,
/// the schedule or the CPU thread count.
/// <para>Group size: <see cref="LaunchGeometry.DefaultRowGroup"/> (1 on the CPU accelerator). Ops accept an
/// explicit group size so tests can run the shared-memory tree on the CPU.</para>
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

    /// <summary>The group size for a row kernel: a positive <paramref name="cap"/> forces a power of two up to it
    /// (tests use it to run the cooperative GPU path on the CPU); else the device's default.</summary>
    public static int GroupSize(LaunchGeometry g, int cap) => cap > 0 ? g.RowGroupSize(cap) : g.DefaultRowGroup(int.MaxValue);

    /// <summary>Launch shape for <paramref name="rows"/> rows of <paramref name="cols"/> columns with one float of
    /// dynamic shared memory per thread; <paramref name="groupSize"/> 0 picks the device's size.</summary>
    public static KernelConfig Config(LaunchGeometry g, int rows, int cols, int groupSize)
    {
        int group = groupSize > 0 ? groupSize : g.DefaultRowGroup(cols);
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
