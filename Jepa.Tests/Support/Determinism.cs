using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Tests.Support;

/// <summary>The two determinism checks every op must pass on the CPU accelerator.</summary>
public static class Determinism
{
    /// <summary>Runs <paramref name="run"/> twice on the fixture's device and once each on fresh CPU devices
    /// with 1 and 3 chunks, all with libraries on <paramref name="path"/>; all four results must be bitwise
    /// identical. <paramref name="run"/> must dispose its tensors before returning the host copy of its outputs.</summary>
    public static void AssertRepeatableAndChunkIndependent(CpuFixture f, Func<KernelLibrary, float[]> run, string what,
        KernelPath path = KernelPath.Auto)
    {
        var first = run(f.Lib(path));
        Reference.AssertBitwiseEqual(first, run(f.Lib(path)), $"{what} (run twice)");
        float[] one = ChunkRuns.OnCpu(1, ops => [run(ops)], path)[0];
        float[] three = ChunkRuns.OnCpu(3, ops => [run(ops)], path)[0];
        Reference.AssertBitwiseEqual(one, three, $"{what} (cpuChunks 1 vs 3)");
        Reference.AssertBitwiseEqual(first, one, $"{what} (cpuChunks {f.Device.Geometry.CpuChunks} vs 1)");
    }
}
