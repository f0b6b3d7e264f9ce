using Jepa.Training.Autograd;
using Jepa.Training.Model;
using Jepa.Training.Tokenization;

namespace Jepa.Training.Generation;

/// <summary>
/// Multiple choice by the next token, without generating: one forward pass over each prompt, and the answer is the
/// candidate token with the largest logit at the prompt's last position (the largest probability too: softmax keeps
/// the order; the first candidate wins a tie, as <c>torch.argmax</c> does). This is the paper's HellaSwag rule
/// (evaluate.py <c>relative_probability</c>, over the tokens "A", "B", "C", "D").
/// </summary>
public static class NextTokenChoice
{
    /// <summary>The id of each candidate string, encoded alone (the paper's <c>convert_tokens_to_ids</c>: for the byte
    /// tokenizer the byte's token, for a byte-level BPE the token the string is).</summary>
    /// <exception cref="ArgumentException">A candidate that is not exactly one token; the message names it and its ids.</exception>
    public static int[] CandidateIds(ITokenizer tokenizer, IReadOnlyList<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(candidates);
        var ids = new int[candidates.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            int[] encoded = tokenizer.Encode(candidates[i]);
            if (encoded.Length != 1)
                throw new ArgumentException($"The choice \"{candidates[i]}\" is {encoded.Length} tokens ({string.Join(", ", encoded)}) for this tokenizer, not one; it cannot be scored by its next-token probability.", nameof(candidates));
            ids[i] = encoded[0];
        }
        return ids;
    }

    /// <summary>
    /// For each prompt, the index in <paramref name="candidates"/> of the candidate the model finds likeliest as the
    /// next token. Up to <paramref name="batchSize"/> prompts go through one forward pass, right-padded to the longest
    /// (causal attention keeps a prompt's positions from seeing the padding after them); each prompt's logits are read
    /// at its own last position. <paramref name="chosen"/> sees each prompt's index and choice as its batch is done.
    /// </summary>
    /// <exception cref="ArgumentException">A prompt is empty or longer than the model's maximum length, or there is no candidate.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled (checked before each pass).</exception>
    public static int[] Choose(LlamaModel model, IReadOnlyList<int[]> prompts, IReadOnlyList<int> candidates, int batchSize = Generator.DefaultBatchSize,
        Action<int, int>? chosen = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (candidates.Count == 0) throw new ArgumentException("There is no candidate token to choose from.", nameof(candidates));
        int v = model.Config.VocabSize;
        foreach (int c in candidates) ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)c, (uint)v, nameof(candidates));
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i] is not { Length: > 0 } p) throw new ArgumentException($"Prompt {i} is empty.", nameof(prompts));
            if (p.Length > model.Config.MaxLength)
                throw new ArgumentException($"Prompt {i} has {p.Length} tokens; the model's maximum length is {model.Config.MaxLength}.", nameof(prompts));
        }
        var result = new int[prompts.Count];
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            int b = Math.Min(batchSize, prompts.Count - start);
            int t = Enumerable.Range(start, b).Max(i => prompts[i].Length);
            var tokens = new int[b * t]; // the padding id does not matter: no kept position attends to it
            var last = new int[b];
            for (int j = 0; j < b; j++)
            {
                prompts[start + j].CopyTo(tokens, j * t);
                last[j] = j * t + prompts[start + j].Length - 1;
            }
            float[] logits;
            using (var batch = new SequenceBatch(model.Device, b, t, tokens, v))
            using (var tape = new Tape(model.Ops, recordGradients: false))
                logits = model.Logits(tape, tape.GatherRows(model.Forward(tape, batch), last)).Value.ToArray();
            for (int j = 0; j < b; j++)
            {
                result[start + j] = ArgMax(logits.AsSpan(j * v, v), candidates);
                chosen?.Invoke(start + j, result[start + j]);
            }
        }
        return result;
    }

    /// <summary>The index of the candidate with the largest logit (the first of equal ones).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits, IReadOnlyList<int> candidates)
    {
        int best = 0;
        for (int i = 1; i < candidates.Count; i++)
            if (logits[candidates[i]] > logits[candidates[best]]) best = i;
        return best;
    }
}
