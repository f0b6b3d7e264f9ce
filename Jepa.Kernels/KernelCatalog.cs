using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Jepa.Kernels;

/// <summary>
/// Every ILGPU kernel of the library, found by convention (a static method of this assembly whose name
/// ends in <c>Kernel</c>), and an ahead-of-time PTX compile of all of them. The compile needs no GPU, so
/// a machine without one still proves every kernel is valid CUDA code.
/// </summary>
public static class KernelCatalog
{
    /// <summary>One kernel entry point.</summary>
    /// <param name="Name">Declaring type and method, e.g. <c>Elementwise.AddKernel</c>.</param>
    /// <param name="Method">The kernel method.</param>
    /// <param name="ImplicitlyGrouped">True when its first parameter is an index (launched as an auto-grouped kernel).</param>
    public sealed record Entry(string Name, MethodInfo Method, bool ImplicitlyGrouped);

    /// <summary>The outcome of compiling one kernel to PTX.</summary>
    /// <param name="Name">The kernel.</param>
    /// <param name="Ptx">The generated PTX module (one <c>.entry</c>), empty on failure.</param>
    /// <param name="Error">The compiler's message, or null.</param>
    public sealed record PtxResult(string Name, string Ptx, string? Error)
    {
        /// <summary>Size of the generated PTX, 0 on failure.</summary>
        public int PtxBytes => Ptx.Length;
    }

    /// <summary>All kernels, ordered by name.</summary>
    public static IReadOnlyList<Entry> All()
    {
        var list = new List<Entry>();
        foreach (var type in typeof(KernelCatalog).Assembly.GetTypes())
        {
            foreach (var m in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (!m.Name.EndsWith("Kernel", StringComparison.Ordinal) || m.ReturnType != typeof(void) || m.IsGenericMethodDefinition) continue;
                var ps = m.GetParameters();
                bool isImplicit = ps.Length > 0 && (ps[0].ParameterType == typeof(Index1D) || ps[0].ParameterType == typeof(Index2D) || ps[0].ParameterType == typeof(Index3D));
                list.Add(new Entry($"{type.Name}.{m.Name}", m, isImplicit));
            }
        }
        return list.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Compiles every kernel to PTX for <paramref name="architecture"/> without a GPU. The PTX declares
    /// <paramref name="instructionSet"/> as its <c>.version</c>: ISA 7.8 is the newest that CUDA 11.8's <c>ptxas</c>
    /// accepts (what <c>scripts/ptx-check.sh</c> assembles), and it already covers SM 90. With <paramref name="only"/>, just the
    /// kernels it accepts.</summary>
    public static IReadOnlyList<PtxResult> CompilePtx(CudaArchitecture architecture, CudaInstructionSet instructionSet, Func<Entry, bool>? only = null)
    {
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, instructionSet, null);
        var results = new List<PtxResult>();
        foreach (var e in All().Where(e => only is null || only(e)))
        {
            try
            {
                var desc = e.ImplicitlyGrouped
                    ? EntryPointDescription.FromImplicitlyGroupedKernel(e.Method)
                    : EntryPointDescription.FromExplicitlyGroupedKernel(e.Method);
                var compiled = (PTXCompiledKernel)backend.Compile(desc, default(KernelSpecialization));
                results.Add(new PtxResult(e.Name, compiled.PTXAssembly, null));
            }
            catch (Exception ex)
            {
                results.Add(new PtxResult(e.Name, "", ex.GetBaseException().Message));
            }
        }
        return results;
    }
}
