using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Tests.Support;

/// <summary>Runs the same computation on fresh CPU devices with different thread (chunk) counts.</summary>
public static class ChunkRuns
{
    /// <summary>The outputs of <paramref name="run"/> on a new <c>Device.Cpu(cpuChunks)</c> with a library on <paramref name="path"/>.</summary>
    public static float[][] OnCpu(int cpuChunks, Func<KernelLibrary, float[][]> run, KernelPath path = KernelPath.Auto)
    {
        using var device = Device.Cpu(cpuChunks);
        return run(new KernelLibrary(device, path));
    }

    /// <summary>Asserts <paramref name="run"/> gives bitwise-identical outputs with 1 and with 3 CPU chunks.</summary>
    public static void AssertIndependentOfChunks(Func<KernelLibrary, float[][]> run, string what, KernelPath path = KernelPath.Auto)
    {
        var one = OnCpu(1, run, path);
        var three = OnCpu(3, run, path);
        Assert.Equal(one.Length, three.Length);
        for (int i = 0; i < one.Length; i++) Reference.AssertBitwiseEqual(one[i], three[i], $"{what} output {i} (1 vs 3 chunks, {path})");
    }
}
