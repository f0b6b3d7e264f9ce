using Jepa.Training.Optim;

namespace Jepa.Training.Training;

/// <summary>How to train: length, batch, optimizer, schedule, seed, logging and checkpoints.</summary>
public sealed record TrainOptions
{
    /// <summary>Optimizer steps; 0 means run <see cref="Epochs"/> whole epochs.</summary>
    public int Steps { get; init; }

    /// <summary>Epochs when <see cref="Steps"/> is 0.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Examples per micro-batch.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Micro-batches whose gradients add up before one optimizer step.</summary>
    public int GradAccumulation { get; init; } = 1;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Linear warm-up steps.</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Decay after warm-up.</summary>
    public DecayKind Decay { get; init; } = DecayKind.Cosine;

    /// <summary>Final learning rate as a fraction of the peak.</summary>
    public double MinLearningRateRatio { get; init; } = 0.1;

    /// <summary>AdamW settings, including weight decay and gradient clipping.</summary>
    public AdamWOptions AdamW { get; init; } = new();

    /// <summary>Apply weight decay to norms and embeddings too.</summary>
    public bool DecayNormsAndEmbeddings { get; init; }

    /// <summary>Seed of initialisation, shuffling and JEPA-loss dropout.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Longest sequence; longer examples are cut (and counted).</summary>
    public int MaxLength { get; init; } = 256;

    /// <summary>Compute the collapse monitor every this many steps (0: never).</summary>
    public int MonitorEvery { get; init; } = 10;

    /// <summary>Write a checkpoint every this many steps (0: only at the end and on cancellation).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>What a step whose gradient norm is NaN or infinite does (its update is never applied).</summary>
    public NonFiniteStep OnNonFinite { get; init; } = NonFiniteStep.Stop;

    /// <summary>With <see cref="NonFiniteStep.Reload"/>: the factor each reload multiplies the learning rate by.</summary>
    public double ReloadLearningRateFactor { get; init; } = 0.5;

    /// <summary>With <see cref="NonFiniteStep.Reload"/>: reloads allowed in one run; the next non-finite step stops it.</summary>
    public int MaxReloads { get; init; } = 3;

    /// <summary>Checkpoints kept in the run directory.</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>The total number of optimizer steps for <paramref name="examples"/> examples: <see cref="Steps"/>, or
    /// <see cref="Epochs"/> passes of <see cref="BatchSize"/> × <see cref="GradAccumulation"/> examples per step.</summary>
    public int TotalSteps(int examples) =>
        Steps > 0 ? Steps : (int)Math.Ceiling(Epochs * (double)examples / (BatchSize * GradAccumulation));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public TrainOptions Validate()
    {
        if (Steps < 0) throw new ArgumentException($"steps must be ≥ 0, got {Steps}.", nameof(Steps));
        if (Steps == 0 && Epochs <= 0) throw new ArgumentException($"epochs must be positive when steps is 0, got {Epochs}.", nameof(Epochs));
        if (BatchSize <= 0) throw new ArgumentException($"batch must be positive, got {BatchSize}.", nameof(BatchSize));
        if (GradAccumulation <= 0) throw new ArgumentException($"grad-accumulation must be positive, got {GradAccumulation}.", nameof(GradAccumulation));
        if (!(LearningRate > 0)) throw new ArgumentException($"lr must be positive, got {LearningRate}.", nameof(LearningRate));
        if (WarmupSteps < 0) throw new ArgumentException($"warmup must be ≥ 0, got {WarmupSteps}.", nameof(WarmupSteps));
        if (MaxLength < 8) throw new ArgumentException($"max-length must be at least 8, got {MaxLength}.", nameof(MaxLength));
        if (!(AdamW.ClipNorm >= 0) || float.IsInfinity(AdamW.ClipNorm))
            throw new ArgumentException($"clip must be ≥ 0 (0: no clipping) and finite, got {AdamW.ClipNorm}.", nameof(AdamW));
        if (!(AdamW.WeightDecay >= 0)) throw new ArgumentException($"weight-decay must be ≥ 0, got {AdamW.WeightDecay}.", nameof(AdamW));
        if (!Enum.IsDefined(OnNonFinite)) throw new ArgumentException($"on-nonfinite: unknown policy {OnNonFinite}.", nameof(OnNonFinite));
        if (!(ReloadLearningRateFactor > 0 && ReloadLearningRateFactor <= 1))
            throw new ArgumentException($"reload learning-rate factor must be in (0, 1], got {ReloadLearningRateFactor}.", nameof(ReloadLearningRateFactor));
        if (MaxReloads < 0) throw new ArgumentException($"max-reloads must be ≥ 0, got {MaxReloads}.", nameof(MaxReloads));
        if (KeepCheckpoints < 1) throw new ArgumentException($"keep-checkpoints must be at least 1, got {KeepCheckpoints}.", nameof(KeepCheckpoints));
        return this;
    }
}

/// <summary>What training does after a step whose gradient norm is NaN or infinite. The step's update is skipped on the
/// device either way, so the weights and optimizer moments stay finite and the checkpoints written stay good.</summary>
public enum NonFiniteStep
{
    /// <summary>Stop the run with <see cref="TrainingDivergedException"/>, naming the step.</summary>
    Stop,
    /// <summary>Warn, count the step as taken without an update, and go on.</summary>
    Skip,
    /// <summary>Warn, go back to the newest intact checkpoint (one is written when training starts without any), multiply the
    /// learning rate by <see cref="TrainOptions.ReloadLearningRateFactor"/> for the rest of the run, and go on; after
    /// <see cref="TrainOptions.MaxReloads"/> reloads, stop as <see cref="Stop"/> does. Needs a run directory.</summary>
    Reload,
}

/// <summary>Training met a NaN or infinite loss or gradient norm and stopped before applying that step.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);
