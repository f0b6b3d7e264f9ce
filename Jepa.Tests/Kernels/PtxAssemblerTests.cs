using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Jepa.Kernels;
using Jepa.Tests.Cli;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

/// <summary>
/// The PTX that <c>jepa ptx</c> writes for <c>scripts/ptx-check.sh</c>, and, where CUDA 11.8's <c>ptxas</c> has been
/// fetched into <c>.tools/</c>, an assembler run over every kernel that fails on an assembler error or a register spill.
/// Without <c>ptxas</c> only the PTX itself is checked: PTX has no registers yet, so spills cannot be seen in it.
/// </summary>
public sealed class PtxAssemblerTests : IDisposable
{
    private static readonly string[] Architectures = ["sm_90", "sm_80"];
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-ptx-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Every kernel as one ISA 7.8 file (the newest PTX version ptxas 11.8 reads) with one entry point and no
    /// <c>.local</c> state space, i.e. no per-thread stack array asked for by the kernel's own code (the tensor-core kernels
    /// excepted, whose inline-PTX operands ILGPU puts in 4-byte local slots). ILGPU 1.5.3
    /// writes <c>.target sm_80</c> for SM 90 too; ptxas then generates SM 90 code from it.</summary>
    [Fact]
    public void PtxCommandWritesEveryKernelAsIsa78WithoutLocalMemory()
    {
        var kernels = KernelCatalog.All().Select(e => e.Name).ToList();
        foreach (string arch in Architectures)
        {
            var files = Emit(arch);
            Assert.Equal(kernels, files.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, ptx) in files)
            {
                Assert.Contains("\n.version 7.8\n", ptx);
                var target = Regex.Match(ptx, @"\n\.target sm_(\d+)\n");
                Assert.True(target.Success && int.Parse(target.Groups[1].Value, CultureInfo.InvariantCulture) is >= 80 and var sm && sm <= int.Parse(arch[3..], CultureInfo.InvariantCulture), $"{name} ({arch}): .target {target.Value.Trim()}");
                Assert.Single(Regex.Matches(ptx, @"\.entry "));
                // ILGPU 1.5.3 passes each inline-PTX operand through a 4-byte local slot: the tensor-core kernels' mma.sync
                // operands are the only local state allowed, and no kernel holds a local array
                if (name.StartsWith("TensorCoreMatMul.", StringComparison.Ordinal))
                    Assert.All(Regex.Matches(ptx, @"\.local \.align \d+ \.b8 \w+\[(\d+)\]"), m => Assert.Equal("4", m.Groups[1].Value));
                else Assert.DoesNotMatch(@"\.local\b", ptx);
            }
        }
    }

    /// <summary>ptxas -v on every kernel for SM 90 (H100/H200): each assembles, and none spills. SM 80 (A100) is left to
    /// <c>scripts/ptx-check.sh</c>, which assembles both, to keep this test to a few seconds.</summary>
    [PtxasFact]
    public void EveryKernelAssemblesWithoutSpillsForSm90()
    {
        const string arch = "sm_90";
        string ptxas = CudaTools.Ptxas!;
        Emit(arch);
        var problems = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(Directory.GetFiles(Path.Combine(_root, arch), "*.ptx"), ptx =>
        {
            string name = Path.GetFileNameWithoutExtension(ptx);
            var (code, log) = Run(ptxas, $"-arch={arch}", "-v", "-o", Path.ChangeExtension(ptx, ".cubin"), ptx);
            var spills = Regex.Match(log, @"(\d+) bytes spill stores, (\d+) bytes spill loads");
            if (code != 0) problems.Add($"{name}: ptxas exit {code}: {log.Trim()}");
            else if (!spills.Success) problems.Add($"{name}: no spill line in ptxas -v output: {log.Trim()}");
            else if (spills.Groups[1].Value != "0" || spills.Groups[2].Value != "0") problems.Add($"{name}: {spills.Value}");
        });
        Assert.True(problems.IsEmpty, string.Join("\n", problems.Order(StringComparer.Ordinal)));
    }

    /// <summary>Runs <c>jepa ptx</c> for <paramref name="arch"/> and returns each kernel's PTX by name.</summary>
    private Dictionary<string, string> Emit(string arch)
    {
        string dir = Path.Combine(_root, arch);
        var r = CliRunner.Run("ptx", "--out", dir, "--arch", arch, "--isa", "7.8");
        Assert.True(r.Code == 0, r.ToString());
        return Directory.GetFiles(dir, "*.ptx").ToDictionary(f => Path.GetFileNameWithoutExtension(f), File.ReadAllText);
    }

    private static (int Code, string Output) Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}
