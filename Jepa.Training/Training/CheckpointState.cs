using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Tokenization;

namespace Jepa.Training.Training;

/// <summary>Everything besides tensors that a checkpoint holds: where training stands and how it was configured.</summary>
/// <param name="Step">Optimizer steps taken.</param>
/// <param name="Epoch">Current epoch (0-based).</param>
/// <param name="Position">Index of the next example within the epoch's order.</param>
/// <param name="Model">The model's shape.</param>
/// <param name="Jepa">The objective's options.</param>
/// <param name="Train">The training options.</param>
/// <param name="Tokenizer">The tokenizer's type and vocabulary size (e.g. <c>ByteTokenizer:271</c>, <c>BpeTokenizer:1024</c>; see <see cref="Tokenization.TokenizerFiles.Describe"/>).</param>
/// <param name="LearningRateScale">The factor on the scheduled learning rate (below 1 after non-finite steps made the run reload).</param>
/// <param name="Reloads">Reloads after non-finite steps so far.</param>
/// <param name="PredictorTokens">The tokenizer's [PRED] tokens; null in states written before it was recorded (see <see cref="RecordedPredictorTokens"/>).</param>
public sealed record CheckpointState(int Step, int Epoch, int Position, ModelConfig Model, JepaOptions Jepa, TrainOptions Train, string Tokenizer,
    double LearningRateScale = 1, int Reloads = 0, int? PredictorTokens = null)
{
    /// <summary>The tokenizer's [PRED] tokens: <see cref="PredictorTokens"/>, or null when the state does not say.</summary>
    public int? RecordedPredictorTokens => PredictorTokens ?? LegacyBytePredictorTokens(Tokenizer);

    /// <summary>Older states (before <see cref="PredictorTokens"/>): a byte tokenizer's count follows from its vocabulary size in
    /// the description <c>ByteTokenizer:NNN</c> (256 bytes, the special tokens, then the [PRED] tokens); other tokenizers' files
    /// say it themselves.</summary>
    private static int? LegacyBytePredictorTokens(string tokenizer)
    {
        const string prefix = nameof(ByteTokenizer) + ":";
        if (!tokenizer.StartsWith(prefix, StringComparison.Ordinal)) return null;
        return int.Parse(tokenizer[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture) - 256 - ByteTokenizer.SpecialNames.Count;
    }
}
