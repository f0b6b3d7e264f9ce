using Jepa.Training.Model;
using Jepa.Training.Tokenization;

namespace Jepa.Training.Generation;

/// <summary>What answering a chat prompt needs: a model, its tokenizer and its chat template. Evaluation depends on this,
/// not on the whole trained-model facade.</summary>
public interface IChatModel
{
    /// <summary>The language model.</summary>
    LlamaModel Model { get; }

    /// <summary>Its tokenizer.</summary>
    ITokenizer Tokenizer { get; }

    /// <summary>Its chat template (prompts and stop tokens).</summary>
    ChatTemplate Template { get; }
}
