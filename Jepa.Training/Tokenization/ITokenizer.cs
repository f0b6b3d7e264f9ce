namespace Jepa.Training.Tokenization;

/// <summary>Turns text into token ids and back, and names the special tokens the trainer needs.</summary>
public interface ITokenizer
{
    /// <summary>Number of ids (model vocabulary size needed).</summary>
    int VocabSize { get; }

    /// <summary>The special tokens.</summary>
    SpecialTokens Special { get; }

    /// <summary>Encodes plain text (no special tokens are recognised inside it).</summary>
    int[] Encode(string text);

    /// <summary>Decodes ids back to text; special tokens are skipped.</summary>
    string Decode(ReadOnlySpan<int> ids);
}

/// <summary>Ids of the special tokens used by chat templates and the JEPA predictor.</summary>
/// <param name="Pad">Padding.</param>
/// <param name="Bos">Beginning of sequence.</param>
/// <param name="Eos">End of sequence.</param>
/// <param name="System">Start of a system turn.</param>
/// <param name="User">Start of a user turn.</param>
/// <param name="Assistant">Start of an assistant turn.</param>
/// <param name="EndOfTurn">End of a turn.</param>
/// <param name="Predictors">The [PRED_1..k] tokens, in order.</param>
public sealed record SpecialTokens(int Pad, int Bos, int Eos, int System, int User, int Assistant, int EndOfTurn, IReadOnlyList<int> Predictors);
