using Jepa.Core;
using Jepa.Kernels;
using Jepa.Training.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project Jepa.Bench -- steps [--config s|m] [--repeats N] [--kernels]</c>: times AdamW
/// training steps on the peer's config S (B 8 × T 128) or M (B 8 × T 512) on the selected device and prints
/// medians. On the CPU, <c>--kernels</c> also times the ILGPU CPU accelerator alone (no SIMD fast paths), at B 1 so it finishes.
/// </summary>
internal static class StepRunner
{
    public static void Run(string[] args)
    {
        int repeats = 3;
        var config = StepBenchmark.ConfigS;
        int T = 128;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--repeats") repeats = int.Parse(args[++i]);
            else if (args[i] == "--config" && args[++i].ToLowerInvariant() == "m") (config, T) = (StepBenchmark.ConfigM, 512);
        }
        using var device = Device.Create();
        Console.WriteLine($"device: {device.Info}; load average: {LoadAverage()}");
        Console.WriteLine($"{"path",-8} {"step",-14} {"B×T",-8} {"median ms",10} {"tokens/s",10} {"peak MiB",9} {"new allocs",10}");
        var paths = device.Kind == DeviceKind.Cpu && args.Contains("--kernels") ? new[] { KernelPath.Auto, KernelPath.Kernel } : [KernelPath.Auto];
        foreach (var path in paths)
        {
            var ops = new KernelLibrary(device, path);
            int B = path == KernelPath.Kernel ? 1 : 8;
            foreach (var kind in new[] { StepKind.Lm, StepKind.JepaSeparate, StepKind.JepaSingle })
            {
                // medians over repeats of (median over 8 steps)
                var runs = Enumerable.Range(0, repeats)
                    .Select(_ => StepBenchmark.Run(ops, config, B, T, kind, warmup: 2, steps: path == KernelPath.Kernel ? 2 : 8))
                    .OrderBy(r => r.MedianMs).ToArray();
                var m = runs[runs.Length / 2];
                Console.WriteLine($"{(path == KernelPath.Auto ? (device.Kind == DeviceKind.Cpu ? "simd" : device.Kind.Name()) : "ilgpu"),-8} {kind,-14} {$"{B}×{T}",-8} {m.MedianMs,10:F1} {m.TokensPerSecond,10:F0} {m.PeakBytes / 1048576.0,9:F1} {m.SteadyStateAllocations,10}");
            }
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
