using System.Text;

namespace Jepa.Training.Tokenization;

/// <summary>
/// The built-in tokenizer: one id per UTF-8 byte (0–255), then the special tokens
/// <c>&lt;|pad|&gt; &lt;|bos|&gt; &lt;|eos|&gt; &lt;|system|&gt; &lt;|user|&gt; &lt;|assistant|&gt; &lt;|end|&gt;</c>
/// (the <see cref="ChatFormat.Jepa"/> format's) and <c>[PRED_1]..[PRED_k]</c>. Needs no training and round-trips any text exactly.
/// </summary>
public sealed class ByteTokenizer : ITokenizer
{
    /// <summary>Names of the fixed special tokens, in id order after the 256 bytes.</summary>
    public static readonly IReadOnlyList<string> SpecialNames = ["<|pad|>", "<|bos|>", "<|eos|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"];

    /// <summary>The most [PRED] tokens a byte tokenizer carries.</summary>
    public const int MaxPredictorTokens = 64;

    /// <summary>Creates the tokenizer with <paramref name="predictorTokens"/> predictor tokens reserved.</summary>
    public ByteTokenizer(int predictorTokens = SpecialTokens.DefaultPredictorCount)
    {
        if (predictorTokens < 0 || predictorTokens > MaxPredictorTokens)
            throw new ArgumentOutOfRangeException(nameof(predictorTokens), predictorTokens, $"Predictor tokens must be between 0 and {MaxPredictorTokens}.");
        const int b = 256;
        var preds = Enumerable.Range(b + SpecialNames.Count, predictorTokens).ToArray();
        Special = new SpecialTokens(b, preds);
        VocabSize = b + SpecialNames.Count + predictorTokens;
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < SpecialNames.Count; i++) added[SpecialNames[i]] = b + i;
        for (int i = 0; i < predictorTokens; i++) added[BpeTokenizer.PredictorName(i + 1)] = preds[i];
        AddedTokens = added;
    }

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <inheritdoc />
    public SpecialTokens Special { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, int> AddedTokens { get; }

    /// <inheritdoc />
    public int[] Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) ids[i] = bytes[i];
        return ids;
    }

    /// <inheritdoc />
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length);
        foreach (int id in ids)
            if (id is >= 0 and < 256) bytes.Add((byte)id);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>The printable name of an id (a byte as itself or <c>&lt;0xNN&gt;</c>, a special token by name).</summary>
    public string TokenName(int id)
    {
        if (id is >= 32 and < 127) return ((char)id).ToString();
        if (id is >= 0 and < 256) return $"<0x{id:X2}>";
        int s = id - 256;
        if (s < SpecialNames.Count) return SpecialNames[s];
        return $"[PRED_{s - SpecialNames.Count + 1}]";
    }
}
