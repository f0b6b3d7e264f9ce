using Jepa.Core;
using Jepa.Kernels;
using Jepa.Training.Benchmarks;
using Jepa.Training.Lora;

/// <summary>
/// <c>dotnet run -c Release --project Jepa.Bench -- steps [--config s|m] [--repeats N] [--kernels] [--lora] [--batch B] [--length T]
/// [--steps N] [--lm-only]</c>: times AdamW
/// training steps on the peer's config S (B 8 × T 128) or M (B 8 × T 512) on the selected device and prints
/// medians. On the CPU, <c>--kernels</c> also times the ILGPU CPU accelerator alone (no SIMD fast paths), at B 1 so it finishes.
/// <c>--lora</c> adds LoRA steps (r 8, α 16, dropout 0.05; all seven projections, and q/v only) beside full fine-tuning, for
/// their peak device memory. <c>--batch</c>, <c>--length</c> and <c>--steps</c> (timed steps, after one warm-up) override the
/// defaults, and <c>--lm-only</c> runs only the LM step, so config M fits on a CPU.
/// </summary>
internal static class StepRunner
{
    public static void Run(string[] args)
    {
        int repeats = 3;
        var config = StepBenchmark.ConfigS;
        int T = 128;
        int? batch = null, length = null, steps = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--repeats") repeats = int.Parse(args[++i]);
            else if (args[i] == "--config" && args[++i].ToLowerInvariant() == "m") (config, T) = (StepBenchmark.ConfigM, 512);
            else if (args[i] == "--batch") batch = int.Parse(args[++i]);
            else if (args[i] == "--length") length = int.Parse(args[++i]);
            else if (args[i] == "--steps") steps = int.Parse(args[++i]);
        }
        T = length ?? T;
        var kinds = args.Contains("--lm-only") ? new[] { StepKind.Lm } : [StepKind.Lm, StepKind.JepaSeparate, StepKind.JepaSingle];
        using var device = Device.Create();
        Console.WriteLine($"device: {device.Info}; load average: {LoadAverage()}");
        var variants = new List<(string Name, LoraOptions? Lora)> { ("full", null) };
        if (args.Contains("--lora"))
        {
            var lora = new LoraOptions { Rank = 8, Alpha = 16, Dropout = 0.05f };
            variants.Add(("lora-all", lora with { Targets = LoraOptions.AllTargets }));
            variants.Add(("lora-qv", lora));
        }
        Console.WriteLine($"{"path",-8} {"step",-14} {"train",-9} {"B×T",-8} {"median ms",10} {"tokens/s",10} {"peak MiB",9} {"new allocs",10}");
        var paths = device.Kind == DeviceKind.Cpu && args.Contains("--kernels") ? new[] { KernelPath.Auto, KernelPath.Kernel } : [KernelPath.Auto];
        foreach (var path in paths)
        {
            var ops = new KernelLibrary(device, path);
            int B = batch ?? (path == KernelPath.Kernel ? 1 : 8);
            foreach (var kind in kinds)
                foreach (var (name, lora) in variants)
                {
                    // medians over repeats of (median over 8 steps)
                    var runs = Enumerable.Range(0, repeats)
                        .Select(_ => StepBenchmark.Run(ops, config, B, T, kind, warmup: steps is null ? 2 : 1, steps: steps ?? (path == KernelPath.Kernel ? 2 : 8), lora: lora))
                        .OrderBy(r => r.MedianMs).ToArray();
                    var m = runs[runs.Length / 2];
                    Console.WriteLine($"{(path == KernelPath.Auto ? (device.Kind == DeviceKind.Cpu ? "simd" : device.Kind.Name()) : "ilgpu"),-8} {kind,-14} {name,-9} {$"{B}×{T}",-8} {m.MedianMs,10:F1} {m.TokensPerSecond,10:F0} {m.PeakBytes / 1048576.0,9:F1} {m.SteadyStateAllocations,10}");
                }
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
