using Jepa.Training.Model;

namespace Jepa.Training.Generation;

/// <summary>Autoregressive decoding with a key/value cache: one prefill pass over the prompt, then one token per pass;
/// for many prompts, many sequences per pass (<see cref="GenerateBatch"/>).</summary>
public static class Generator
{
    /// <summary>Sequences decoded together by <see cref="GenerateBatch"/> unless told otherwise.</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>Continues <paramref name="prompt"/> until a stop token or the token limit; returns the new tokens (without the stop token).</summary>
    public static int[] Generate(LlamaModel model, int[] prompt, GenerateOptions options, IReadOnlyCollection<int> stopTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompt);
        options.Validate();
        if (prompt.Length == 0) throw new ArgumentException("The prompt is empty.", nameof(prompt));
        if (prompt.Length >= model.Config.MaxLength)
            throw new ArgumentException($"The prompt has {prompt.Length} tokens; the model's maximum length is {model.Config.MaxLength}.", nameof(prompt));
        return GenerateBatch(model, [prompt], options, stopTokens, batchSize: 1)[0];
    }

    /// <summary>
    /// Continues every prompt of <paramref name="prompts"/> like <see cref="Generate"/> (the same tokens, greedy or
    /// sampled: each sequence's results do not depend on the others, on their order or on <paramref name="batchSize"/>),
    /// decoding up to <paramref name="batchSize"/> sequences per forward pass. Returns the new tokens of each prompt, in
    /// the order of <paramref name="prompts"/>.
    /// <para>
    /// The sequences of one pass share a key/value cache and so a position: a prompt of n tokens is prefilled (with
    /// the other prompts of n tokens that join at the same time) and joins the batch when the batch's next position is n;
    /// a finished sequence frees its row for the next one that fits. Prompts that find no free row wait for a later
    /// sweep over the positions. The tokens all prompts begin with (a system prompt, say) are prefilled once.
    /// </para>
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="prompts">The prompts, each non-empty and shorter than the model's maximum length.</param>
    /// <param name="options">How to decode.</param>
    /// <param name="stopTokens">Tokens that end a sequence (not included in its output).</param>
    /// <param name="batchSize">Most sequences decoded together (at least 1).</param>
    /// <param name="finished">Called with a prompt's index and its tokens as soon as it is done (in completion order, on
    /// the calling thread).</param>
    /// <param name="cancellation">Checked before each forward pass.</param>
    /// <exception cref="ArgumentException">A prompt is empty or does not fit the model, or an option is invalid.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled.</exception>
    public static int[][] GenerateBatch(LlamaModel model, IReadOnlyList<int[]> prompts, GenerateOptions options,
        IReadOnlyCollection<int> stopTokens, int batchSize = DefaultBatchSize, Action<int, int[]>? finished = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(stopTokens);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i] is not { Length: > 0 } p) throw new ArgumentException($"Prompt {i} is empty.", nameof(prompts));
            if (p.Length >= model.Config.MaxLength)
                throw new ArgumentException($"Prompt {i} has {p.Length} tokens; the model's maximum length is {model.Config.MaxLength}.", nameof(prompts));
        }
        cancellation.ThrowIfCancellationRequested();
        return new BatchDecoder(model, prompts, options, stopTokens, batchSize, finished, cancellation).Run();
    }
}
