using Jepa.Training.Autograd;
using Jepa.Training.Model;

namespace Jepa.Training.Generation;

/// <summary>Autoregressive decoding with a key/value cache: one prefill pass over the prompt, then one token per pass.</summary>
public static class Generator
{
    /// <summary>Continues <paramref name="prompt"/> until a stop token or the token limit; returns the new tokens (without the stop token).</summary>
    public static int[] Generate(LlamaModel model, int[] prompt, GenerateOptions options, IReadOnlyCollection<int> stopTokens)
    {
        options.Validate();
        if (prompt.Length == 0) throw new ArgumentException("The prompt is empty.", nameof(prompt));
        int capacity = Math.Min(model.Config.MaxLength, prompt.Length + options.MaxNewTokens);
        if (prompt.Length >= capacity)
            throw new ArgumentException($"The prompt has {prompt.Length} tokens; the model's maximum length is {model.Config.MaxLength}.", nameof(prompt));
        using var cache = new KvCache(model.Device, model.Config, 1, capacity);
        var output = new List<int>();
        int[] next = prompt;
        while (cache.Length + next.Length <= capacity && output.Count < options.MaxNewTokens)
        {
            float[] logits;
            using (var tape = new Tape(model.Ops, recordGradients: false))
            {
                var h = model.ForwardCached(tape, cache, next, next.Length);
                var last = tape.GatherRows(h, [next.Length - 1]);
                logits = model.Logits(tape, last).Value.ToArray();
            }
            int token = Sampler.Next(logits, options, output.Count);
            if (stopTokens.Contains(token)) break;
            output.Add(token);
            next = [token];
        }
        return output.ToArray();
    }
}
