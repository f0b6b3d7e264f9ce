namespace Jepa.Tests.Support;

/// <summary>
/// A fact that needs <see cref="CudaTools.Ptxas"/>: reported as skipped, with the reason and how to get the tool,
/// when it is absent (the suite needs no network), so a missing assembler never reads as a pass.
/// </summary>
public sealed class PtxasFactAttribute : FactAttribute
{
    public PtxasFactAttribute()
    {
        if (CudaTools.Ptxas is null)
            Skip = $"ptxas not found in {CudaTools.Folder ?? "<no checkout>"}: run scripts/ptx-check.sh once to fetch CUDA 11.8's tools, then this test assembles every kernel";
    }
}
