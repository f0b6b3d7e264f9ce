using ILGPU.Runtime.Cuda;
using Jepa.Kernels;

namespace Jepa.Tests.Kernels;

/// <summary>Every kernel must be valid CUDA: compile all of them to PTX for Hopper, no GPU needed.</summary>
public sealed class PtxCompileTests
{
    [Fact]
    public void EveryKernelCompilesToPtxForSm90()
    {
        var results = KernelCatalog.CompilePtx(CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);
        Assert.NotEmpty(results);
        var failed = results.Where(r => r.Error is not null).Select(r => $"{r.Name}: {r.Error}").ToList();
        Assert.True(failed.Count == 0, "kernels that do not compile to PTX:\n" + string.Join("\n", failed));
        Assert.All(results, r => Assert.True(r.PtxBytes > 100, r.Name));
    }
}
