namespace Jepa.Training.Objective;

/// <summary>What one optimizer step measured.</summary>
/// <param name="Step">1-based optimizer step.</param>
/// <param name="LmLoss">Mean next-token loss over the answer tokens.</param>
/// <param name="JepaLoss">The JEPA distance (NaN when the term was skipped or off).</param>
/// <param name="Cosine">Mean cosine between the predicted and target embeddings (NaN when not computed).</param>
/// <param name="LearningRate">The rate used.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="TokensPerSecond">Tokens processed (all passes, padding excluded) per second of the step.</param>
/// <param name="JepaSkipped">True when JEPA-loss dropout skipped the term.</param>
/// <param name="EmbeddingStd">Spread of the unit-length view embeddings across the batch: mean per-dimension standard
/// deviation × √C, about 1 for random directions and 0 when every embedding points the same way (collapse monitor).</param>
/// <param name="EffectiveRank">exp(entropy) of the normalised singular values of the view embeddings (collapse monitor).</param>
/// <param name="CollapseWarning">True when the monitor judged the embeddings collapsed.</param>
public sealed record StepMetrics(int Step, double LmLoss, double JepaLoss, double Cosine, double LearningRate, double GradNorm,
    double TokensPerSecond, bool JepaSkipped, double EmbeddingStd, double EffectiveRank, bool CollapseWarning);
