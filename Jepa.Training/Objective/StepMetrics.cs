namespace Jepa.Training.Objective;

/// <summary>What one optimizer step measured.</summary>
/// <param name="Step">1-based optimizer step.</param>
/// <param name="LmLoss">Mean next-token loss over the answer tokens.</param>
/// <param name="JepaLoss">The JEPA distance (NaN when the term was skipped or off).</param>
/// <param name="Cosine">Mean cosine between the predicted and target embeddings (NaN when not computed).</param>
/// <param name="LearningRate">The rate used.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="TokensPerSecond">Tokens processed (all passes, padding excluded) per second of the step.</param>
/// <param name="JepaSkipped">True when JEPA-loss dropout skipped the term in every micro-batch of the step (each micro-batch draws on its own, as the paper's code does per loss computation).</param>
/// <param name="EmbeddingStd">Spread of the unit-length embeddings of the more collapsed view (the smaller of
/// <see cref="TextSpread"/> and <see cref="CodeSpread"/>): mean per-dimension standard deviation × √C, about 1 for random
/// directions and 0 when every embedding of the view points the same way (collapse monitor).</param>
/// <param name="EffectiveRank">exp(entropy) of the normalised singular values of the centred unit embeddings of the view of
/// lower rank (collapse monitor).</param>
/// <param name="CollapseWarning">True when the monitor judged the embeddings collapsed.</param>
public sealed record StepMetrics(int Step, double LmLoss, double JepaLoss, double Cosine, double LearningRate, double GradNorm,
    double TokensPerSecond, bool JepaSkipped, double EmbeddingStd, double EffectiveRank, bool CollapseWarning)
{
    /// <summary>Spread of the predicted (Text) view's unit embeddings (NaN when not measured this step).</summary>
    public double TextSpread { get; init; } = double.NaN;

    /// <summary>Spread of the target (Code) view's unit embeddings (NaN when not measured).</summary>
    public double CodeSpread { get; init; } = double.NaN;

    /// <summary>Effective rank of the predicted view's centred unit embeddings (NaN when not measured).</summary>
    public double TextRank { get; init; } = double.NaN;

    /// <summary>Effective rank of the target view's centred unit embeddings (NaN when not measured).</summary>
    public double CodeRank { get; init; } = double.NaN;

    /// <summary>Mean matched-pair cosine minus mean mismatched-pair cosine (<see cref="Training.CollapseMonitor.PairGap"/>), NaN when not measured.</summary>
    public double PairGap { get; init; } = double.NaN;

    /// <summary>The SIGReg term (NaN when off or skipped).</summary>
    public double SigRegLoss { get; init; } = double.NaN;

    /// <summary>The VICReg-style term (NaN when off or skipped).</summary>
    public double VicRegLoss { get; init; } = double.NaN;

    /// <summary>The λ warm-up factor applied this step.</summary>
    public double JepaScale { get; init; } = 1;
}
