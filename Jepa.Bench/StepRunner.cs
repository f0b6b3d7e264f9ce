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
/// defaults, and <c>--lm-only</c> runs only the LM step, so config M fits on a CPU. <c>jepa bench</c> prints the same table
/// for the fast paths.
/// </summary>
internal static class StepRunner
{
    public static void Run(string[] args)
    {
        int repeats = 3;
        var preset = StepPreset.S;
        int? batch = null, length = null, steps = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--repeats") repeats = int.Parse(args[++i]);
            else if (args[i] == "--config") preset = StepPreset.Parse(args[++i]);
            else if (args[i] == "--batch") batch = int.Parse(args[++i]);
            else if (args[i] == "--length") length = int.Parse(args[++i]);
            else if (args[i] == "--steps") steps = int.Parse(args[++i]);
        }
        int T = length ?? preset.Length;
        var kinds = args.Contains("--lm-only") ? [StepKind.Lm] : StepKindNames.All;
        using var device = Device.Create();
        Console.WriteLine($"device: {device.Info}; load average: {BenchStatistics.LoadAverage()}");
        var variants = new List<(string Name, LoraOptions? Lora)> { ("full", null) };
        if (args.Contains("--lora"))
        {
            var lora = new LoraOptions { Rank = 8, Alpha = 16, Dropout = 0.05f };
            variants.Add(("lora-all", lora with { Targets = LoraOptions.LlamaTargets }));
            variants.Add(("lora-qv", lora));
        }
        Console.WriteLine($"{"path",-8} {"train",-9} {StepTable.Header}");
        var paths = device.Kind == DeviceKind.Cpu && args.Contains("--kernels") ? new[] { KernelPath.Auto, KernelPath.Kernel } : [KernelPath.Auto];
        foreach (var path in paths)
        {
            var ops = new KernelLibrary(device, path);
            int B = batch ?? (path == KernelPath.Kernel ? 1 : preset.Batch);
            foreach (var kind in kinds)
                foreach (var (name, lora) in variants)
                {
                    // the median over repeats of (the median over the timed steps)
                    var m = StepBenchmark.RunRepeated(ops, preset.Config, B, T, kind, repeats, warmup: steps is null ? 2 : 1,
                        steps: steps ?? (path == KernelPath.Kernel ? 2 : 8), lora: lora);
                    Console.WriteLine($"{(path == KernelPath.Auto ? (device.Kind == DeviceKind.Cpu ? "simd" : device.Kind.Name()) : "ilgpu"),-8} {name,-9} {StepTable.Row(m, B, T)}");
                }
        }
    }
}
