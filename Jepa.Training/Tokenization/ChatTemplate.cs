using System.Text.RegularExpressions;
using Jepa.Training.Data;

namespace Jepa.Training.Tokenization;

/// <summary>A pair example as token ids: the full chat sequence with its next-token labels, and the two views.</summary>
/// <param name="Full">The full sequence: BOS, system turn, user turn (Text), assistant turn (Code).</param>
/// <param name="Labels">Per position of <paramref name="Full"/>: the id to predict there (the next token) when
/// that next token belongs to the answer (the Code view and the assistant end-of-turn suffix), else <see cref="ChatTemplate.IgnoreIndex"/>.</param>
/// <param name="Text">The Text view alone, in parts: BOS and the user header, the content, the end of the turn (plain: BOS and the content).</param>
/// <param name="Code">The Code view alone, in parts: BOS and the assistant prefix, the content, the end of the turn (plain: BOS and the content).</param>
/// <param name="Truncated">True when the full sequence (or a view) was cut to the maximum length.</param>
/// <param name="TextAlone">The user's message as a sequence of its own, for <see cref="LabelReach.Text"/>: the Text view, and in a
/// plain layout the end-of-turn suffix after it (the paper's <c>--plain --train_all</c>: <c>user + "&lt;|eot_id|&gt;"</c>).
/// Null: the Text view's ids.</param>
public sealed record EncodedPair(int[] Full, int[] Labels, ViewTokens Text, ViewTokens Code, bool Truncated, int[]? TextAlone = null)
{
    /// <summary>The Text view's ids: BOS and the user turn.</summary>
    public int[] TextView => Text.Ids;

    /// <summary>The Code view's ids: BOS and the assistant turn.</summary>
    public int[] CodeView => Code.Ids;

    /// <summary>Labels for every next token of <see cref="Full"/> (the whole conversation), not only the answer's.</summary>
    public int[] ConversationLabels()
    {
        var labels = new int[Full.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = i + 1 < Full.Length ? Full[i + 1] : ChatTemplate.IgnoreIndex;
        return labels;
    }

    /// <summary>The sequence the next-token loss reads under <paramref name="reach"/>, and its labels (the next token
    /// where it counts, else <see cref="ChatTemplate.IgnoreIndex"/>): <see cref="Full"/> for the answer or the whole
    /// conversation, <see cref="TextAlone"/> with every next token for <see cref="LabelReach.Text"/>.</summary>
    public (int[] Ids, int[] Labels) LanguageModelSequence(LabelReach reach)
    {
        switch (reach)
        {
            case LabelReach.Answer: return (Full, Labels);
            case LabelReach.Conversation: return (Full, ConversationLabels());
            case LabelReach.Text:
                int[] ids = TextAlone ?? TextView;
                var labels = new int[ids.Length];
                for (int i = 0; i < labels.Length; i++) labels[i] = i + 1 < ids.Length ? ids[i + 1] : ChatTemplate.IgnoreIndex;
                return (ids, labels);
            default: throw new ArgumentOutOfRangeException(nameof(reach), reach, "Unknown label reach.");
        }
    }
}

/// <summary>
/// Encodes conversations in a <see cref="ChatFormat"/> with a tokenizer. The format's literal text is encoded once,
/// with the tokenizer's added tokens recognised by their text; message content is encoded as plain text, so a
/// message cannot inject a special token. With <see cref="ChatFormat.Jepa"/> the layout is
/// <c>&lt;|bos|&gt;&lt;|system|&gt;S&lt;|end|&gt;&lt;|user|&gt;T&lt;|end|&gt;&lt;|assistant|&gt;C&lt;|end|&gt;</c>.
/// Labels cover the answer (C and the end-of-turn suffix) only, so the next-token loss is the loss of generating
/// the Code view from the prompt.
/// </summary>
public sealed partial class ChatTemplate
{
    /// <summary>The label of positions that do not count in the loss.</summary>
    public const int IgnoreIndex = -100;

    private readonly ITokenizer _tokenizer;
    private readonly int[] _bos, _systemBefore, _systemAfter, _userBefore, _userAfter, _assistantPrefix, _assistantSuffix;

    /// <summary>Creates the template for <paramref name="format"/> (default <see cref="ChatFormat.Jepa"/>) over <paramref name="tokenizer"/>.</summary>
    /// <exception cref="InvalidDataException">The format names a special token (<c>&lt;|…|&gt;</c> or a stop token) the tokenizer does not have.</exception>
    public ChatTemplate(ITokenizer tokenizer, ChatFormat? format = null)
    {
        _tokenizer = tokenizer;
        Format = (format ?? ChatFormat.Jepa).Validate($"chat format '{(format ?? ChatFormat.Jepa).Name}'");
        var f = Format;
        // with text markers only the BOS text is checked (the role markers are spelled out, the stop tokens checked below)
        var literals = f.TextMarkers ? new[] { f.Bos } : new[] { f.Bos, f.System, f.User, f.AssistantPrefix, f.AssistantSuffix };
        foreach (string token in literals.SelectMany(l => SpecialLike().Matches(l).Select(m => m.Value)).Concat(f.Stop).Distinct())
            if (!tokenizer.AddedTokens.ContainsKey(token))
                throw new InvalidDataException($"chat format '{f.Name}' needs the special token '{token}', which the tokenizer does not have.");
        StopIds = f.Stop.Select(s => tokenizer.AddedTokens[s]).ToArray();
        _bos = Literal(f.Bos);
        (_systemBefore, _systemAfter) = Turn(f.System);
        (_userBefore, _userAfter) = Turn(f.User);
        _assistantPrefix = Literal(f.AssistantPrefix);
        _assistantSuffix = Literal(f.AssistantSuffix);
    }

    /// <summary>Literal text that must be an added token of the tokenizer: <c>&lt;|…|&gt;</c>, and Gemma's <c>&lt;bos&gt;</c>,
    /// <c>&lt;eos&gt;</c>, <c>&lt;start_of_turn&gt;</c>, <c>&lt;end_of_turn&gt;</c> (so a tokenizer without them is refused rather
    /// than spelling them out as text).</summary>
    [GeneratedRegex(@"<\|[^<>|\s]+\|>|<(?:bos|eos|start_of_turn|end_of_turn)>")]
    private static partial Regex SpecialLike();

    /// <summary>The chat format.</summary>
    public ChatFormat Format { get; }

    /// <summary>Ids of the format's stop tokens.</summary>
    public IReadOnlyList<int> StopIds { get; }

    private int[] Literal(string text) => _tokenizer.EncodeWithAddedTokens(text);

    private (int[], int[]) Turn(string turn)
    {
        int at = turn.IndexOf(ChatFormat.Content, StringComparison.Ordinal);
        return (Literal(turn[..at]), Literal(turn[(at + ChatFormat.Content.Length)..]));
    }

    private void AddTurn(List<int> ids, int[] before, string content, int[] after)
    {
        ids.AddRange(before);
        ids.AddRange(_tokenizer.Encode(content));
        ids.AddRange(after);
    }

    /// <summary>The prompt a model continues to generate the Code view for <paramref name="system"/> and <paramref name="text"/>:
    /// BOS, the system turn (when given; never in a <see cref="ChatFormat.Plain"/> layout; with <see cref="ChatFormat.SystemInUser"/>
    /// in front of the user's message instead), the user turn and the assistant prefix.</summary>
    public int[] Prompt(string? system, string text)
    {
        var ids = new List<int>(_bos);
        if (system is not null && Format.SystemInUser) text = Format.System.Replace(ChatFormat.Content, system, StringComparison.Ordinal) + text;
        else if (system is not null && !Format.Plain) AddTurn(ids, _systemBefore, system, _systemAfter);
        AddTurn(ids, _userBefore, text, _userAfter);
        ids.AddRange(_assistantPrefix);
        return [.. ids];
    }

    /// <summary>Encodes one example, cutting the full sequence to <paramref name="maxLength"/> tokens (and each view too).</summary>
    public EncodedPair Encode(PairExample example, int maxLength)
    {
        if (maxLength < 4) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "Maximum length must be at least 4 tokens.");
        int[] prompt = Prompt(example.System, example.Text);
        int[] code = _tokenizer.Encode(example.Code);
        var full = new List<int>(prompt.Length + code.Length + _assistantSuffix.Length);
        full.AddRange(prompt);
        full.AddRange(code);
        full.AddRange(_assistantSuffix);
        bool truncated = full.Count > maxLength;
        int n = Math.Min(full.Count, maxLength);
        var labels = new int[n];
        for (int i = 0; i < n; i++)
            labels[i] = i + 1 < n && i + 1 >= prompt.Length ? full[i + 1] : IgnoreIndex;

        var text = new ViewTokens([.. _bos, .. _userBefore], _tokenizer.Encode(example.Text), _userAfter);
        var codeView = Format.Plain ? new ViewTokens(_bos, code, [])
            : Format.CodeAsUser ? new ViewTokens([.. _bos, .. _userBefore], code, _userAfter)
            : new ViewTokens([.. _bos, .. _assistantPrefix], code, _assistantSuffix);
        truncated |= text.Length > maxLength || codeView.Length > maxLength;
        var textCut = text.CutTo(maxLength);
        int[]? textAlone = null;
        if (Format.Plain)
        {
            var alone = new ViewTokens(textCut.Head, textCut.Content, _assistantSuffix);
            truncated |= alone.Length > maxLength;
            textAlone = alone.CutTo(maxLength).Ids;
        }
        return new EncodedPair(full.Take(n).ToArray(), labels, textCut, codeView.CutTo(maxLength), truncated, textAlone);
    }
}
