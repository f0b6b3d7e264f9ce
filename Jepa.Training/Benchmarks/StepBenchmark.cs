using Jepa.Core;
using Jepa.Kernels;
using Jepa.Training.Autograd;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Optim;

namespace Jepa.Training.Benchmarks;

/// <summary>Which training step <see cref="StepBenchmark"/> times.</summary>
public enum StepKind
{
    /// <summary>Next-token loss only.</summary>
    Lm,
    /// <summary>LLM-JEPA with two extra view passes (Text, Code of T/2 tokens each).</summary>
    JepaSeparate,
    /// <summary>LLM-JEPA with one block-causal pass over [Text ‖ Code].</summary>
    JepaSingle,
}

/// <summary>The timing of one kind of step.</summary>
/// <param name="Kind">The step.</param>
/// <param name="MedianMs">Median wall time of a step, in milliseconds.</param>
/// <param name="TokensPerSecond">B·T divided by the median step time (the peer's convention).</param>
/// <param name="PeakBytes">Peak device memory rented by tensors during the timed steps (weights, moments and activations).</param>
/// <param name="SteadyStateAllocations">Device allocations made during the timed steps (0 when the pool has reached its steady state).</param>
public sealed record StepTiming(StepKind Kind, double MedianMs, double TokensPerSecond, long PeakBytes, long SteadyStateAllocations);

/// <summary>
/// Times full AdamW training steps of a Llama model on random tokens, the same work as the PyTorch peer
/// (<c>torch_llama_step.py</c>): an LM step over [B, T], and an LLM-JEPA step that adds the cosine term
/// between the last hidden states of a Text and a Code view of T/2 tokens each.
/// </summary>
public static class StepBenchmark
{
    /// <summary>Config "S" of the peer: vocab 512, d 256, 4 layers, 4 heads, SwiGLU 688, interleaved RoPE, untied head.</summary>
    public static ModelConfig ConfigS { get; } = new(512, 256, 4, 4, 4, 688, MaxLength: 128, RopeInterleaved: true);

    /// <summary>Config "M" of the GPU comparison: vocab 32000, d 768, 12 layers, 12 heads, SwiGLU 2048 (batch 8 × 512).</summary>
    public static ModelConfig ConfigM { get; } = new(32000, 768, 12, 12, 12, 2048, MaxLength: 512, RopeInterleaved: true);

    /// <summary>
    /// Runs <see cref="Run"/> <paramref name="repeats"/> times (each with a fresh model) and returns the run whose
    /// median step time is the median of the repeats.
    /// </summary>
    public static StepTiming RunRepeated(KernelLibrary ops, ModelConfig config, int B, int T, StepKind kind, int repeats, int warmup = 2, int steps = 8,
        ulong seed = 0, LoraOptions? lora = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        var runs = Enumerable.Range(0, repeats).Select(_ => Run(ops, config, B, T, kind, warmup, steps, seed, lora)).OrderBy(r => r.MedianMs).ToArray();
        return runs[runs.Length / 2];
    }

    /// <summary>Checks a benchmark shape: B, T and <paramref name="steps"/> positive, T even and at most the model's maximum length, <paramref name="warmup"/> ≥ 0.</summary>
    /// <exception cref="ArgumentException">The message names the bad value.</exception>
    public static void Validate(ModelConfig config, int B, int T, int warmup, int steps)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (B <= 0) throw new ArgumentException($"The batch size must be positive, got {B}.");
        if (T <= 0 || T % 2 != 0) throw new ArgumentException($"The sequence length must be positive and even (two views of T/2), got {T}.");
        if (T > config.MaxLength) throw new ArgumentException($"The sequence length {T} exceeds the model's maximum length {config.MaxLength}.");
        if (warmup < 0) throw new ArgumentException($"The warm-up step count must be ≥ 0, got {warmup}.");
        if (steps <= 0) throw new ArgumentException($"The timed step count must be positive, got {steps}.");
    }

    /// <summary>Runs <paramref name="warmup"/> untimed and <paramref name="steps"/> timed steps of <paramref name="kind"/>.
    /// With <paramref name="lora"/>, the model gets LoRA adapters and only they train (the base is frozen: no gradients, no moments).</summary>
    /// <exception cref="ArgumentException">T is odd or longer than the model's maximum length, or B, T or <paramref name="steps"/> is not positive.</exception>
    public static StepTiming Run(KernelLibrary ops, ModelConfig config, int B, int T, StepKind kind, int warmup = 2, int steps = 8, ulong seed = 0,
        LoraOptions? lora = null)
    {
        Validate(config, B, T, warmup, steps);
        var device = ops.Device;
        using var model = LlamaModel.Create(config, ops, seed);
        if (lora is not null) model.AttachLora(lora, seed);
        using var optimizer = new AdamWOptimizer(ops, model.TrainableParameters, new AdamWOptions(ClipNorm: 0f));
        int V = config.VocabSize, half = T / 2;
        int[] Random(int n, ulong stream)
        {
            var a = new int[n];
            for (int i = 0; i < n; i++) a[i] = Philox.NextInt(seed, stream, (ulong)i, V);
            return a;
        }
        using var full = new SequenceBatch(device, B, T, Random(B * T, 1), V);
        var hostTargets = Random(B * T, 2);
        using var targets = Tensor.FromInt32(device, hostTargets, B * T);
        using var text = new SequenceBatch(device, B, half, Random(B * half, 3), V);
        using var code = new SequenceBatch(device, B, half, Random(B * half, 4), V);
        var packedIds = new int[B * T];
        var positions = new int[B * T];
        var segments = new int[B * T];
        for (int b = 0; b < B; b++)
            for (int i = 0; i < T; i++)
            {
                packedIds[b * T + i] = i < half ? text.HostTokens[b * half + i] : code.HostTokens[b * half + i - half];
                positions[b * T + i] = i < half ? i : i - half;
                segments[b * T + i] = i < half ? 0 : 1;
            }
        using var packed = new SequenceBatch(device, B, T, packedIds, V, positions, segments);
        int[] lastOfHalf = Enumerable.Range(0, B).Select(b => b * half + half - 1).ToArray();
        int[] textInPacked = Enumerable.Range(0, B).Select(b => b * T + half - 1).ToArray();
        int[] codeInPacked = Enumerable.Range(0, B).Select(b => b * T + T - 1).ToArray();

        void Step()
        {
            model.ZeroGrad();
            using var tape = new Tape(ops);
            tape.SetRandomKey(seed, optimizer.Step, 0);
            var lm = tape.CrossEntropy(model.Logits(tape, model.Forward(tape, full)), targets, hostTargets);
            Variable total;
            if (kind == StepKind.Lm)
            {
                total = tape.Combine((1f, lm));
            }
            else
            {
                Variable et, ec;
                if (kind == StepKind.JepaSeparate)
                {
                    et = tape.GatherRows(model.Forward(tape, text), lastOfHalf);
                    ec = tape.GatherRows(model.Forward(tape, code), lastOfHalf);
                }
                else
                {
                    var h = model.Forward(tape, packed);
                    et = tape.GatherRows(h, textInPacked);
                    ec = tape.GatherRows(h, codeInPacked);
                }
                total = tape.Combine((1f, lm), (1f, tape.JepaDistance(et, ec, JepaDistanceKind.Cosine)));
            }
            tape.Backward(total);
            optimizer.Update(1e-3);
            device.Synchronize();
        }

        for (int i = 0; i < warmup; i++) Step();
        device.Pool.ResetPeak();
        long allocations = device.Pool.Allocations;
        double median = BenchStatistics.MedianMs(Step, steps);
        return new StepTiming(kind, median, B * T / (median / 1000.0), device.Pool.PeakBytesInUse, device.Pool.Allocations - allocations);
    }
}
