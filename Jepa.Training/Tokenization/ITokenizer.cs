namespace Jepa.Training.Tokenization;

/// <summary>
/// Turns text into token ids and back, and names the tokens the trainer needs: the padding id, the JEPA
/// predictor tokens and the added (special) tokens, looked up by their text (chat formats use them).
/// </summary>
public interface ITokenizer
{
    /// <summary>Number of ids (model vocabulary size needed).</summary>
    int VocabSize { get; }

    /// <summary>The padding id and the predictor tokens.</summary>
    SpecialTokens Special { get; }

    /// <summary>The added tokens (special tokens such as <c>&lt;|eot_id|&gt;</c> and <c>[PRED_1]</c>) by their text.</summary>
    IReadOnlyDictionary<string, int> AddedTokens { get; }

    /// <summary>Encodes plain text: no special or added token is recognised inside it.</summary>
    int[] Encode(string text);

    /// <summary>Decodes ids back to text; added (special) tokens are skipped.</summary>
    string Decode(ReadOnlySpan<int> ids);
}

/// <summary>Ids of the tokens the trainer itself needs.</summary>
/// <param name="Pad">The id that fills padded positions (never a label, never attended to by a real token).</param>
/// <param name="Predictors">The [PRED_1..k] tokens, in order.</param>
public sealed record SpecialTokens(int Pad, IReadOnlyList<int> Predictors)
{
    /// <summary>The [PRED] tokens a new tokenizer reserves unless told otherwise (the paper's grid uses k ≤ 4 of them).</summary>
    public const int DefaultPredictorCount = 8;
}

/// <summary>Helpers over any <see cref="ITokenizer"/>.</summary>
public static class TokenizerExtensions
{
    /// <summary>The id of the added token whose text is <paramref name="text"/>, or null.</summary>
    public static int? TokenId(this ITokenizer tokenizer, string text) =>
        tokenizer.AddedTokens.TryGetValue(text, out int id) ? id : null;

    /// <summary>
    /// Encodes text in which added tokens are recognised by their text (template literals such as
    /// <c>&lt;|start_header_id|&gt;user&lt;|end_header_id|&gt;</c>); the rest is encoded as plain text.
    /// At each position the longest added token wins.
    /// </summary>
    public static int[] EncodeWithAddedTokens(this ITokenizer tokenizer, string text)
    {
        var ids = new List<int>();
        var added = tokenizer.AddedTokens;
        int start = 0, i = 0;
        while (i < text.Length)
        {
            string? best = null;
            foreach (string t in added.Keys)
                if (t.Length > 0 && (best is null || t.Length > best.Length) && string.CompareOrdinal(text, i, t, 0, t.Length) == 0) best = t;
            if (best is null) { i++; continue; }
            if (i > start) ids.AddRange(tokenizer.Encode(text[start..i]));
            ids.Add(added[best]);
            i += best.Length;
            start = i;
        }
        if (start < text.Length) ids.AddRange(tokenizer.Encode(text[start..]));
        return [.. ids];
    }
}
