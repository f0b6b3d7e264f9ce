using Jepa.Training.Model;

namespace Jepa.Training.Benchmarks;

/// <summary>A named model config of the step benchmark with its default batch shape.</summary>
/// <param name="Name">The name as typed: <c>s</c> or <c>m</c>.</param>
/// <param name="Config">The model.</param>
/// <param name="Batch">Default batch size B.</param>
/// <param name="Length">Default sequence length T (even: two views of T/2).</param>
public sealed record StepPreset(string Name, ModelConfig Config, int Batch, int Length)
{
    /// <summary>Config S of the PyTorch peer at B 8 × T 128.</summary>
    public static StepPreset S { get; } = new("s", StepBenchmark.ConfigS, 8, 128);

    /// <summary>Config M of the GPU comparison at B 8 × T 512.</summary>
    public static StepPreset M { get; } = new("m", StepBenchmark.ConfigM, 8, 512);

    /// <summary>Every preset, by name.</summary>
    public static IReadOnlyList<StepPreset> All { get; } = [S, M];

    /// <summary>The preset called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No preset has that name; the message lists the valid ones.</exception>
    public static StepPreset Parse(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown step benchmark config '{name}'. Valid: {string.Join(", ", All.Select(p => p.Name))}.");
}
