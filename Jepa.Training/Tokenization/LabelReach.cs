namespace Jepa.Training.Tokenization;

/// <summary>Which next tokens the language-model loss is trained on.</summary>
public enum LabelReach
{
    /// <summary>The answer only: the Code view and its end of turn, given the prompt.</summary>
    Answer,
    /// <summary>Every next token of the conversation (system, user and assistant turns), as the paper's collator effectively trains.</summary>
    Conversation,
    /// <summary>Every next token of the user's message alone (<see cref="EncodedPair.TextAlone"/>): the answer is
    /// not in the sequence and is seen only as the Code view. The paper's <c>--plain --train_all</c>, which its paraphrase
    /// pretraining uses.</summary>
    Text,
}
