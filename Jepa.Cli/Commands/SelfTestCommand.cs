using System.Globalization;
using Jepa.Cli.Options;
using Jepa.Cli.SelfTest;
using Jepa.Cli.Support;
using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Cli.Commands;

/// <summary>
/// <c>jepa selftest</c>: runs every op on the chosen device and on the CPU accelerator and compares them. Both
/// sides run the ILGPU kernels (the CPU reference forces <see cref="KernelPath.Kernel"/>), so the table checks
/// the kernels across devices; ops with a CPU fast path also compare that path with the CPU kernels.
/// </summary>
public sealed class SelfTestCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("selftest", "[--device cpu|cuda|opencl]",
        """
        Runs matrix products (NN, NT, TN, backward), attention forward/backward with block-causal segments,
        RMSNorm, softmax, RoPE, SwiGLU, embedding, cross-entropy, the JEPA distances, AdamW and reductions on
        small inputs, on the chosen device and on the CPU accelerator (one thread, ILGPU kernels), and prints
        each op's largest norm-wise relative error. Ops with a CPU host fast path (matmul, attention) are also
        compared with the CPU kernels. Exit code 1 when any op fails. With --device cpu the first comparison
        checks that the CPU kernels do not depend on the thread count (the error must be 0).
        """,
        [CommonOptions.Device, CommonOptions.Json]);

    /// <inheritdoc />
    public string Summary => "compare every op on a device against the CPU accelerator";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        var options = CommonOptions.DeviceFrom(args);
        using var target = options?.Kind == DeviceKind.Cpu ? Device.Cpu() : Device.Create(options);
        using var reference = Device.Cpu(cpuChunks: 1);
        var targetOps = new KernelLibrary(target);
        var referenceOps = new KernelLibrary(reference);
        bool json = args.Flag("json");
        string targetName = target.Kind.Name(), refName = "cpu";
        if (target.Kind == DeviceKind.Cpu) { targetName = $"cpu×{target.Geometry.CpuChunks}"; refName = "cpu×1"; }
        if (!json)
        {
            context.Out.WriteLine($"device:    {target}");
            context.Out.WriteLine($"reference: {reference} (ILGPU kernels, one thread)");
            context.Out.WriteLine();
            context.Out.WriteLine($"{"op",-26} {"compared",-28} {"max rel. error",14} {"tolerance",10}  result");
        }
        int failed = 0, rows = 0;
        foreach (var c in SelfTestCases.All)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            Row(c, $"{targetName} kernel vs {refName} kernel", () => Compare(c, targetOps, KernelPath.Kernel, referenceOps, KernelPath.Kernel));
            if (c.HasHostPath)
                Row(c, "cpu host vs cpu kernel", () => Compare(c, referenceOps, KernelPath.Host, referenceOps, KernelPath.Kernel));
        }
        if (json)
            context.Out.WriteLine(JsonLine.Of(new Dictionary<string, object?>
            {
                ["type"] = "summary", ["device"] = target.ToString(), ["rows"] = rows, ["failed"] = failed, ["passed"] = failed == 0,
            }));
        else
            context.Out.WriteLine(failed == 0 ? $"\nall {rows} comparisons passed" : $"\n{failed} of {rows} comparisons FAILED");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failure;

        void Row(SelfTestCase c, string compared, Func<(double Error, string Worst)> run)
        {
            rows++;
            double error;
            string? problem = null, worst = null;
            try { (error, worst) = run(); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                error = double.PositiveInfinity;
                problem = e.Message;
            }
            bool pass = error <= c.Tolerance;
            if (!pass) failed++;
            if (json)
            {
                context.Out.WriteLine(JsonLine.Of(new Dictionary<string, object?>
                {
                    ["type"] = "op", ["op"] = c.Name, ["compared"] = compared, ["max_rel_error"] = error, ["worst_output"] = worst,
                    ["tolerance"] = c.Tolerance, ["pass"] = pass, ["error"] = problem,
                }));
                return;
            }
            string err = double.IsFinite(error) ? error.ToString("0.0E+00", CultureInfo.InvariantCulture) : "—";
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Name,-26} {compared,-28} {err,14} {c.Tolerance,10:0E+00}  {(pass ? "pass" : "FAIL")}{(problem is null ? "" : "  " + problem)}"));
        }
    }

    private static (double Error, string Worst) Compare(SelfTestCase c, KernelLibrary a, KernelPath pathA, KernelLibrary b, KernelPath pathB)
    {
        IReadOnlyList<(string Name, float[] Values)> x, y;
        using (var rig = new SelfTestRig(a, pathA)) x = c.Run(rig);
        using (var rig = new SelfTestRig(b, pathB)) y = c.Run(rig);
        double worst = 0;
        string name = x.Count > 0 ? x[0].Name : "";
        for (int i = 0; i < x.Count; i++)
        {
            double e = SelfTestCase.RelativeError(x[i].Values, y[i].Values);
            if (e > worst || double.IsNaN(e)) { worst = e; name = x[i].Name; }
        }
        return (worst, name);
    }
}
