using ILGPU;
using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Shared-memory tree reductions across one explicitly grouped kernel's group, in a fixed pattern:
/// with a power-of-two group size <c>g</c>, step <c>s = g/2, g/4, …, 1</c> adds slot <c>i + s</c> into slot
/// <c>i</c> for <c>i &lt; s</c>. The order never depends on timing, so results are bitwise reproducible.
/// Every thread of the group must call these (they contain barriers) with the same <c>shared</c> view
/// of at least <c>Group.DimX</c> floats; every thread gets the result.
/// </summary>
internal static class GroupReduce
{
    /// <summary>
    /// The group size for a one-group-per-row kernel. On GPUs: <see cref="LaunchGeometry.RowGroupSize"/>.
    /// On the CPU accelerator: 1 (the reductions then cost nothing), because every barrier of a cooperative
    /// group there synchronises OS threads: measured on the 2-core dev machine (heavily loaded), the
    /// cross-entropy forward over 200 rows took ~8 s with groups of 64, 0.7 s with groups of 8 and 1.3 ms
    /// with groups of 1 (V = 37). A positive <paramref name="cap"/> overrides this on any device
    /// (tests use it to run the GPU's cooperative path on the CPU).
    /// </summary>
    public static int GroupSize(LaunchGeometry g, int cap) =>
        cap > 0 ? g.RowGroupSize(cap) : g.IsGpu ? g.RowGroupSize() : 1;

    /// <summary>Σ of <paramref name="value"/> over the group.</summary>
    public static float Sum(ArrayView<float> shared, float value)
    {
        int tid = Group.IdxX;
        shared[tid] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (tid < s) shared[tid] += shared[tid + s];
            Group.Barrier();
        }
        float r = shared[0];
        Group.Barrier();
        return r;
    }

    /// <summary>Maximum of <paramref name="value"/> over the group.</summary>
    public static float Max(ArrayView<float> shared, float value)
    {
        int tid = Group.IdxX;
        shared[tid] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
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
