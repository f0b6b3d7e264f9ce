using Jepa.Core;
using Jepa.Kernels;
using Jepa.Training.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project Jepa.Bench -- steps [--config s|m] [--repeats N] [--kernels]</c>: times AdamW
/// training steps on the peer's config S (B 8 × T 128) or M (B 8 × T 512) on the selected device and prints
/// medians. On the CPU, <c>--kernels</c> also times the ILGPU CPU accelerator alone (no SIMD fast paths), at B 1 so it finishes.
/// <c>jepa bench</c> prints the same table for the fast paths.
/// </summary>
internal static class StepRunner
{
    public static void Run(string[] args)
    {
        int repeats = 3;
        var preset = StepPreset.S;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--repeats") repeats = int.Parse(args[++i]);
            else if (args[i] == "--config") preset = StepPreset.Parse(args[++i]);
        }
        using var device = Device.Create();
        Console.WriteLine($"device: {device.Info}; load average: {BenchStatistics.LoadAverage()}");
        Console.WriteLine($"{"path",-8} {StepTable.Header}");
        var paths = device.Kind == DeviceKind.Cpu && args.Contains("--kernels") ? new[] { KernelPath.Auto, KernelPath.Kernel } : [KernelPath.Auto];
        foreach (var path in paths)
        {
            var ops = new KernelLibrary(device, path);
            int B = path == KernelPath.Kernel ? 1 : preset.Batch, T = preset.Length;
            foreach (var kind in StepKindNames.All)
            {
                // the median over repeats of (the median over 8 steps)
                var m = StepBenchmark.RunRepeated(ops, preset.Config, B, T, kind, repeats, warmup: 2, steps: path == KernelPath.Kernel ? 2 : 8);
                Console.WriteLine($"{(path == KernelPath.Auto ? (device.Kind == DeviceKind.Cpu ? "simd" : device.Kind.Name()) : "ilgpu"),-8} {StepTable.Row(m, B, T)}");
            }
        }
    }
}
