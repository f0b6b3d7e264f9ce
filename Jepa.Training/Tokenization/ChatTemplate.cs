using Jepa.Training.Data;

namespace Jepa.Training.Tokenization;

/// <summary>A pair example as token ids: the full chat sequence with its next-token labels, and the two views.</summary>
/// <param name="Full">The full sequence: system, user (Text), assistant (Code).</param>
/// <param name="Labels">Per position of <paramref name="Full"/>: the id to predict there (the next token) when
/// that next token belongs to the answer, else <see cref="ChatTemplate.IgnoreIndex"/>.</param>
/// <param name="TextView">The Text view alone, as a user turn.</param>
/// <param name="CodeView">The Code view alone, as an assistant turn.</param>
/// <param name="Truncated">True when the full sequence was cut to the maximum length.</param>
public sealed record EncodedPair(int[] Full, int[] Labels, int[] TextView, int[] CodeView, bool Truncated);

/// <summary>
/// The default chat template, built from the tokenizer's special tokens:
/// <c>&lt;|bos|&gt; &lt;|system|&gt; S &lt;|end|&gt; &lt;|user|&gt; T &lt;|end|&gt; &lt;|assistant|&gt; C &lt;|end|&gt;</c>.
/// Labels cover the answer (C and its closing <c>&lt;|end|&gt;</c>) only, so the next-token loss is the
/// loss of generating the Code view from the prompt.
/// </summary>
public sealed class ChatTemplate
{
    /// <summary>The label of positions that do not count in the loss.</summary>
    public const int IgnoreIndex = -100;

    private readonly ITokenizer _tokenizer;

    /// <summary>Creates the template over <paramref name="tokenizer"/>.</summary>
    public ChatTemplate(ITokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>The prompt a model continues to generate the Code view for <paramref name="system"/> and <paramref name="text"/>.</summary>
    public int[] Prompt(string? system, string text)
    {
        var s = _tokenizer.Special;
        var ids = new List<int> { s.Bos };
        if (system is not null) { ids.Add(s.System); ids.AddRange(_tokenizer.Encode(system)); ids.Add(s.EndOfTurn); }
        ids.Add(s.User); ids.AddRange(_tokenizer.Encode(text)); ids.Add(s.EndOfTurn);
        ids.Add(s.Assistant);
        return ids.ToArray();
    }

    /// <summary>Encodes one example, cutting the full sequence to <paramref name="maxLength"/> tokens (and each view too).</summary>
    public EncodedPair Encode(PairExample example, int maxLength)
    {
        if (maxLength < 4) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "Maximum length must be at least 4 tokens.");
        var s = _tokenizer.Special;
        int[] prompt = Prompt(example.System, example.Text);
        int[] code = _tokenizer.Encode(example.Code);
        var full = new List<int>(prompt.Length + code.Length + 1);
        full.AddRange(prompt);
        full.AddRange(code);
        full.Add(s.EndOfTurn);
        bool truncated = full.Count > maxLength;
        int n = Math.Min(full.Count, maxLength);
        var labels = new int[n];
        for (int i = 0; i < n; i++)
            labels[i] = i + 1 < n && i + 1 >= prompt.Length ? full[i + 1] : IgnoreIndex;

        var text = new List<int> { s.Bos, s.User };
        text.AddRange(_tokenizer.Encode(example.Text));
        text.Add(s.EndOfTurn);
        var codeView = new List<int> { s.Bos, s.Assistant };
        codeView.AddRange(code);
        codeView.Add(s.EndOfTurn);
        truncated |= text.Count > maxLength || codeView.Count > maxLength;
        return new EncodedPair(full.Take(n).ToArray(), labels, text.Take(maxLength).ToArray(), codeView.Take(maxLength).ToArray(), truncated);
    }
}
