using System.Globalization;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Training.Benchmarks;

namespace Jepa.Cli.Commands;

/// <summary>
/// <c>jepa bench</c>: times full AdamW training steps (<see cref="StepBenchmark"/>) of the benchmark configs and
/// square matrix products (<see cref="MatMulTiming"/>) on the chosen device.
/// </summary>
public sealed class BenchCommand : ICommand
{
    private const int MatMulRuns = 5;

    /// <inheritdoc />
    public OptionTable Options { get; } = new("bench", "[--device cpu|cuda|opencl] [--config s|m] [options]",
        """
        Times full AdamW training steps of a Llama model on random tokens (the work of the PyTorch peer
        torch_llama_step.py): an LM step over [B, T] (lm), an LLM-JEPA step with two extra view passes of T/2
        tokens (jepa-separate), and one with a single block-causal pass over [Text ‖ Code] (jepa-single).
        Config s: vocab 512, d_model 256, 4 layers, 4 heads, SwiGLU 688 (default B 8 × T 128); config m: vocab
        32000, d_model 768, 12 layers, 12 heads, SwiGLU 2048 (default B 8 × T 512). Prints, per step kind, the
        median ms per step, tokens/s (B·T / median), the peak device memory rented by tensors and the device
        allocations during the timed steps (0 once the buffer pool is warm), then the GFLOP/s of square matrix
        products (C = A·B and A·Bᵀ, 2n³ per product, median of 5) through the same kernels.
        """,
        [
            CommonOptions.Device,
            CommonOptions.Precision,
            OptionSpec.Choice("config", "model config", "s", "s", "m"),
            new("batch", "N", "batch size B", "8"),
            new("seq", "T", "sequence length T, even and at most the config's maximum length", "128 for s, 512 for m"),
            new("kinds", "LIST", "comma-separated step kinds: lm, jepa-separate, jepa-single", "all"),
            new("steps", "N", "timed steps per kind", "8"),
            new("warmup", "N", "untimed steps per kind before the timed ones", "2"),
            new("repeats", "N", "repeat each kind with a fresh model and report the median repeat", "1"),
            new("matmul", "N", "side of the square matrix products to time; 0 skips them", "1024"),
            CommonOptions.Json,
        ]);

    /// <inheritdoc />
    public string Summary => "time training steps and matrix products on a device";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        var preset = StepPreset.Parse(args.Choice("config") ?? "s");
        int B = args.PositiveInt("batch") ?? preset.Batch;
        int T = args.PositiveInt("seq") ?? preset.Length;
        int steps = args.PositiveInt("steps") ?? 8;
        int warmup = args.NonNegativeInt("warmup") ?? 2;
        int repeats = args.PositiveInt("repeats") ?? 1;
        int matmul = args.NonNegativeInt("matmul") ?? 1024;
        IReadOnlyList<StepKind> kinds;
        try
        {
            kinds = args.String("kinds") is { } list ? StepKindNames.ParseList(list) : StepKindNames.All;
            StepBenchmark.Validate(preset.Config, B, T, warmup, steps);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        bool json = args.Flag("json");

        using var device = Device.Create(CommonOptions.DeviceFrom(args));
        var ops = new KernelLibrary(device);
        string load = BenchStatistics.LoadAverage();
        if (!json)
        {
            context.Out.WriteLine($"device: {device.Info.Name} ({device.Kind.Name()}:{device.Info.Index}, {device.Info.Detail}); load average: {load}");
            string repeated = repeats > 1 ? $", median of {repeats} repeats" : "";
            context.Out.WriteLine($"config {preset.Name}: {Describe(preset)}; B {B} × T {T}; steps per kind: {warmup} warm-up, {steps} timed{repeated}");
            context.Out.WriteLine();
            context.Out.WriteLine(StepTable.Header);
        }
        var timings = new List<StepTiming>();
        foreach (var kind in kinds)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var t = StepBenchmark.RunRepeated(ops, preset.Config, B, T, kind, repeats, warmup, steps);
            timings.Add(t);
            if (!json) context.Out.WriteLine(StepTable.Row(t, B, T));
        }
        var products = new List<MatMulTiming>();
        if (matmul > 0)
            foreach (var form in new[] { MatMulForm.NN, MatMulForm.NT })
            {
                context.Cancellation.ThrowIfCancellationRequested();
                products.Add(MatMulTiming.Measure(ops, form, matmul, MatMulRuns));
            }
        if (json)
        {
            context.Out.WriteLine(JsonLine.Of(new Dictionary<string, object?>
            {
                ["device"] = device.Info.Name, ["device_kind"] = device.Kind.Name(), ["device_index"] = device.Info.Index,
                ["load_average"] = load, ["config"] = preset.Name, ["batch"] = B, ["seq"] = T, ["warmup"] = warmup, ["steps"] = steps,
                ["repeats"] = repeats,
                ["results"] = timings.Select(t => new Dictionary<string, object?>
                {
                    ["kind"] = t.Kind.Name(), ["median_ms"] = t.MedianMs, ["tokens_per_second"] = t.TokensPerSecond,
                    ["peak_bytes"] = t.PeakBytes, ["steady_state_allocations"] = t.SteadyStateAllocations,
                }).ToList(),
                ["matmul"] = products.Select(p => new Dictionary<string, object?>
                {
                    ["form"] = p.Form.ToString(), ["size"] = p.Size, ["median_ms"] = p.MedianMs, ["gflops"] = p.Gflops,
                }).ToList(),
            }));
        }
        else if (products.Count > 0)
        {
            context.Out.WriteLine();
            string forms = string.Join(", ", products.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Form} {p.Gflops:F1} GFLOP/s ({p.MedianMs:F2} ms)")));
            context.Out.WriteLine($"matmul {matmul}³ (median of {MatMulRuns}): {forms}");
        }
        return ExitCodes.Ok;
    }

    private static string Describe(StepPreset p) =>
        $"vocab {p.Config.VocabSize}, d_model {p.Config.DModel}, {p.Config.Layers} layers, {p.Config.Heads} heads, SwiGLU {p.Config.Ffn}";
}
