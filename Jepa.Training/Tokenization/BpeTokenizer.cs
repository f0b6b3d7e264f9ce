using Jepa.Core;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Training.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer as Hugging Face <c>tokenizer.json</c> files describe it (GPT-2, Llama-3, Qwen2, ours):
/// text is optionally NFC-normalised, split by the file's <see cref="PreTokenizer"/>, each piece's UTF-8 bytes are
/// mapped to printable characters (<see cref="ByteLevel.Char"/>) and merged by rank (or, with <c>ignore_merges</c>,
/// taken whole when the piece is in the vocabulary). Added tokens keep their ids; they are recognised only in chat
/// template text (<see cref="TokenizerExtensions.EncodeWithAddedTokens"/>), never in <see cref="Encode"/>'s input.
/// A tokenizer trained by <see cref="BpeTrainer"/> carries the <see cref="ByteTokenizer.SpecialNames"/> and
/// <c>[PRED_1..k]</c>; a real model's gets predictor tokens through <see cref="WithPredictors"/>.
/// <para>With a <see cref="SentencePieceStyle"/> (Llama 2's and Gemma's files) the text is not pre-tokenized or mapped to
/// bytes: spaces become ▁, the characters are merged by rank, and characters outside the vocabulary fall back to their
/// <c>&lt;0xXX&gt;</c> byte tokens.</para>
/// </summary>
public sealed class BpeTokenizer : ITokenizer
{
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<int, string> _tokens;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly List<(string Left, string Right)> _merges;
    private readonly SortedDictionary<int, string> _added;
    private readonly Dictionary<string, int> _addedByName;
    private readonly HashSet<string> _notSpecial;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly int? _padOverride;

    /// <summary>
    /// Creates a tokenizer from a vocabulary (byte-level token string → id), its merges in rank order, the added
    /// tokens (text → id; all special unless named in <paramref name="notSpecial"/>), the pre-tokenizer (default
    /// <see cref="PreTokenizer.Gpt2"/>), NFC normalisation and <c>ignore_merges</c>. Nothing is added: see
    /// <see cref="WithJepaSpecials"/> and <see cref="WithPredictors"/>. The padding id is <paramref name="pad"/>, else the
    /// first present of <c>&lt;|pad|&gt;</c>, <c>&lt;pad&gt;</c>, <c>&lt;|endoftext|&gt;</c>, <c>&lt;|end_of_text|&gt;</c>, <c>&lt;/s&gt;</c>, else 0.
    /// </summary>
    public BpeTokenizer(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        IReadOnlyDictionary<string, int>? added = null, PreTokenizer? preTokenizer = null, bool nfc = false, bool ignoreMerges = false,
        IEnumerable<string>? notSpecial = null, int? pad = null, SentencePieceStyle? sentencePiece = null)
    {
        _ids = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        _tokens = new Dictionary<int, string>();
        foreach (var (t, id) in _ids)
            if (!_tokens.TryAdd(id, t)) throw new InvalidDataException($"BPE vocabulary: id {id} is used by both '{_tokens[id]}' and '{t}'.");
        SentencePiece = sentencePiece;
        for (int b = 0; b < 256; b++)
        {
            if (sentencePiece is null && !_ids.ContainsKey(ByteLevel.Char((byte)b).ToString()))
                throw new InvalidDataException($"BPE vocabulary: byte 0x{b:X2} ('{ByteLevel.Char((byte)b)}') has no token; not a byte-level vocabulary.");
            if (sentencePiece is { ByteFallback: true } && !_ids.ContainsKey(SentencePieceStyle.ByteToken((byte)b)))
                throw new InvalidDataException($"BPE vocabulary: byte fallback is on but byte 0x{b:X2} has no token '{SentencePieceStyle.ByteToken((byte)b)}'.");
        }
        _merges = [.. merges];
        _ranks = new Dictionary<(string, string), int>(_merges.Count);
        for (int r = 0; r < _merges.Count; r++) _ranks.TryAdd(_merges[r], r);
        _added = new SortedDictionary<int, string>();
        _addedByName = new Dictionary<string, int>(StringComparer.Ordinal);
        if (added != null)
            foreach (var (t, id) in added)
            {
                if (_added.TryGetValue(id, out var other)) throw new InvalidDataException($"BPE added tokens: id {id} is used by both '{other}' and '{t}'.");
                _added[id] = t;
                _addedByName[t] = id;
            }
        _notSpecial = new HashSet<string>(notSpecial ?? [], StringComparer.Ordinal);
        PreTokenizer = preTokenizer ?? PreTokenizer.Gpt2;
        Nfc = nfc;
        IgnoreMerges = ignoreMerges;
        _padOverride = pad;
        if (sentencePiece is { ByteFallback: false, UnkToken: { } unk } && !_ids.ContainsKey(unk) && !_addedByName.ContainsKey(unk))
            throw new InvalidDataException($"BPE: the unknown token '{unk}' is neither in the vocabulary nor an added token.");
        int present = 0;
        var preds = new List<int>();
        while (_addedByName.TryGetValue(PredictorName(present + 1), out int p)) { preds.Add(p); present++; }
        int padId = pad ?? new[] { "<|pad|>", "<pad>", "<|endoftext|>", "<|end_of_text|>", "</s>" }
            .Select(n => _addedByName.TryGetValue(n, out int i) ? i : (int?)null).FirstOrDefault(i => i is not null) ?? 0;
        Special = new SpecialTokens(padId, preds);
        VocabSize = Math.Max(_tokens.Keys.Max(), _added.Count == 0 ? 0 : _added.Keys.Max()) + 1;
    }

    /// <summary>The name of predictor token <paramref name="i"/> (1-based): <c>[PRED_i]</c>.</summary>
    public static string PredictorName(int i) => $"[PRED_{i}]";

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <inheritdoc />
    public SpecialTokens Special { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, int> AddedTokens => _addedByName;

    /// <summary>The pre-tokenizer (of a byte-level tokenizer; unused with <see cref="SentencePiece"/>).</summary>
    public PreTokenizer PreTokenizer { get; }

    /// <summary>The SentencePiece style (▁ for spaces, merges over characters, byte fallback), or null for byte-level BPE.</summary>
    public SentencePieceStyle? SentencePiece { get; }

    /// <summary>True when text is NFC-normalised before pre-tokenization.</summary>
    public bool Nfc { get; }

    /// <summary>True when a whole pre-token found in the vocabulary is one token (Llama-3's <c>ignore_merges</c>).</summary>
    public bool IgnoreMerges { get; }

    /// <summary>The merges, highest priority first.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges => _merges;

    /// <summary>The token string of an id (byte-level form, or an added token's text), or null if unused.</summary>
    public string? TokenName(int id) => _tokens.TryGetValue(id, out var t) ? t : _added.TryGetValue(id, out var a) ? a : null;

    /// <summary>
    /// This tokenizer with the jepa format's special tokens (<see cref="ByteTokenizer.SpecialNames"/>) that are missing
    /// appended after the highest id, and <paramref name="predictorTokens"/> predictor tokens after them when none are present.
    /// </summary>
    public BpeTokenizer WithJepaSpecials(int predictorTokens = SpecialTokens.DefaultPredictorCount)
    {
        CheckPredictorCount(predictorTokens);
        var added = new Dictionary<string, int>(_addedByName, StringComparer.Ordinal);
        int next = VocabSize;
        foreach (string s in ByteTokenizer.SpecialNames) if (!added.ContainsKey(s)) added[s] = next++;
        if (Special.Predictors.Count == 0)
            for (int i = 1; i <= predictorTokens; i++) added[PredictorName(i)] = next++;
        return With(added, pad: null);
    }

    /// <summary>
    /// This tokenizer with <paramref name="k"/> predictor tokens <c>[PRED_1..k]</c> at ids <paramref name="firstId"/>,
    /// <paramref name="firstId"/>+1, …: for a real model's tokenizer, <paramref name="firstId"/> is the model's vocabulary
    /// size, which may exceed the tokenizer's own count. The jepa special tokens are not added.
    /// </summary>
    /// <exception cref="ArgumentException">The tokenizer already has predictor tokens, or <paramref name="firstId"/> is below <see cref="VocabSize"/>.</exception>
    public BpeTokenizer WithPredictors(int k, int firstId)
    {
        CheckPredictorCount(k);
        if (Special.Predictors.Count > 0) throw new ArgumentException($"The tokenizer already has {Special.Predictors.Count} predictor tokens.");
        if (firstId < VocabSize) throw new ArgumentOutOfRangeException(nameof(firstId), firstId, $"The first predictor id must be at least the tokenizer's vocabulary size {VocabSize}.");
        var added = new Dictionary<string, int>(_addedByName, StringComparer.Ordinal);
        for (int i = 1; i <= k; i++) added[PredictorName(i)] = firstId + i - 1;
        return With(added, _padOverride);
    }

    /// <summary>This tokenizer with padding id <paramref name="id"/>.</summary>
    public BpeTokenizer WithPad(int id)
    {
        if (id < 0 || id >= VocabSize) throw new ArgumentOutOfRangeException(nameof(id), id, $"The padding id must be below the vocabulary size {VocabSize}.");
        return With(_addedByName, id);
    }

    private BpeTokenizer With(IReadOnlyDictionary<string, int> added, int? pad) =>
        new(_ids, _merges, added, PreTokenizer, Nfc, IgnoreMerges, _notSpecial, pad, SentencePiece);

    private static void CheckPredictorCount(int k)
    {
        if (k < 0 || k > 64) throw new ArgumentOutOfRangeException(nameof(k), k, "Predictor tokens must be between 0 and 64.");
    }

    /// <inheritdoc />
    public int[] Encode(string text)
    {
        if (Nfc) text = text.Normalize(NormalizationForm.FormC);
        if (SentencePiece is { } spm) return text.Length == 0 ? [] : _cache.GetOrAdd(spm.Normalize(text), EncodeSentencePiece);
        var ids = new List<int>(text.Length);
        foreach (string piece in PreTokenizer.Split(text))
            ids.AddRange(_cache.GetOrAdd(piece, EncodePiece));
        return [.. ids];
    }

    /// <inheritdoc />
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 2);
        foreach (int id in ids)
        {
            if (_tokens.TryGetValue(id, out var t))
            {
                if (SentencePiece is null) ByteLevel.TryAppendBytes(t, bytes);
                else SentencePieceStyle.AppendBytes(t, bytes);
            }
            else if (_added.TryGetValue(id, out var a) && _notSpecial.Contains(a)) bytes.AddRange(Encoding.UTF8.GetBytes(a));
        }
        string text = Encoding.UTF8.GetString(bytes.ToArray());
        return SentencePiece is { StripLeadingSpace: true } && text.StartsWith(' ') ? text[1..] : text;
    }

    /// <summary>A ▁-normalised text as SentencePiece-style BPE encodes it: one symbol per character (Unicode scalar), a
    /// character outside the vocabulary as its UTF-8 bytes' <c>&lt;0xXX&gt;</c> tokens (or one unknown token for a run of such
    /// characters), then merged by rank.</summary>
    private int[] EncodeSentencePiece(string text)
    {
        var spm = SentencePiece!;
        var syms = new List<string>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        bool lastUnknown = false;
        foreach (var rune in text.EnumerateRunes())
        {
            string c = rune.ToString();
            if (_ids.ContainsKey(c)) { syms.Add(c); lastUnknown = false; continue; }
            if (spm.ByteFallback)
            {
                int n = rune.EncodeToUtf8(utf8);
                for (int i = 0; i < n; i++) syms.Add(SentencePieceStyle.ByteToken(utf8[i]));
                continue;
            }
            string unk = spm.UnkToken ?? throw new InvalidDataException($"BPE: character U+{rune.Value:X4} is not in the vocabulary, and the tokenizer has neither byte fallback nor an unknown token.");
            if (!lastUnknown) syms.Add(unk); // fuse_unk: a run of unknown characters is one token
            lastUnknown = true;
        }
        return MergeAndMap(syms);
    }

    private int[] EncodePiece(string piece)
    {
        string encoded = ByteLevel.Encode(piece);
        if (IgnoreMerges && _ids.TryGetValue(encoded, out int whole)) return [whole];
        var syms = new List<string>(encoded.Length);
        foreach (char c in encoded) syms.Add(c.ToString());
        return MergeAndMap(syms);
    }

    /// <summary>Merges adjacent symbols by rank until no merge applies, then maps them to ids (an added token by its id).</summary>
    private int[] MergeAndMap(List<string> syms)
    {
        while (syms.Count > 1)
        {
            int best = int.MaxValue, at = -1;
            for (int i = 0; i + 1 < syms.Count; i++)
                if (_ranks.TryGetValue((syms[i], syms[i + 1]), out int r) && r < best) { best = r; at = i; }
            if (at < 0) break;
            var (l, rt) = _merges[best];
            var merged = new List<string>(syms.Count);
            for (int i = 0; i < syms.Count; i++)
            {
                if (i + 1 < syms.Count && syms[i] == l && syms[i + 1] == rt) { merged.Add(l + rt); i++; }
                else merged.Add(syms[i]);
            }
            syms = merged;
        }
        var ids = new int[syms.Count];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = _ids.TryGetValue(syms[i], out int id) ? id
                : _addedByName.TryGetValue(syms[i], out int added) ? added
                : throw new InvalidDataException($"BPE: merged token '{syms[i]}' is not in the vocabulary.");
        return ids;
    }

    /// <summary>Writes the tokenizer as a Hugging Face <c>tokenizer.json</c>, atomically (temporary file, then rename).</summary>
    public void Save(string path)
    {
        var vocab = new JsonObject();
        foreach (var (id, t) in _tokens.OrderBy(kv => kv.Key)) vocab[t] = id;
        var merges = new JsonArray();
        foreach (var (l, r) in _merges) merges.Add(new JsonArray(l, r));
        var added = new JsonArray();
        foreach (var (id, t) in _added)
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = t, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = !_notSpecial.Contains(t),
            });
        var root = new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null,
            ["padding"] = _padOverride is not { } pad ? null : new JsonObject
            {
                ["strategy"] = "BatchLongest", ["direction"] = "Right", ["pad_to_multiple_of"] = null,
                ["pad_id"] = pad, ["pad_type_id"] = 0, ["pad_token"] = TokenName(pad) ?? "",
            },
            ["added_tokens"] = added, ["normalizer"] = Nfc ? new JsonObject { ["type"] = "NFC" } : null,
            ["pre_tokenizer"] = PreTokenizer.ToJson(), ["post_processor"] = null, ["decoder"] = PreTokenizer.ByteLevelJson(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = SentencePiece?.UnkToken, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = SentencePiece is not null, ["byte_fallback"] = SentencePiece?.ByteFallback ?? false,
                ["ignore_merges"] = IgnoreMerges, ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        if (SentencePiece is { } spm)
        {
            var (normalizer, pre, decoder) = spm.ToJson();
            root["normalizer"] = normalizer;
            root["pre_tokenizer"] = pre;
            root["decoder"] = decoder;
        }
        AtomicFile.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Loads a Hugging Face BPE <c>tokenizer.json</c> exactly as it is (ours, or a real model's such as GPT-2's, Llama-3's
    /// or Qwen2's, and SentencePiece-style files such as Llama 2's and Gemma's, see <see cref="SentencePieceStyle.FromJson"/>):
    /// its pre-tokenizer (see <see cref="PreTokenizer"/>; absent: GPT-2's), normalizer
    /// (null or NFC), <c>ignore_merges</c>, merges as "a b" strings or [a, b] pairs, added tokens with their ids, and
    /// <c>padding.pad_id</c> (written by <see cref="Save"/> after <see cref="WithPad"/>).
    /// The post-processor and decoder are not read (chat formats add BOS; decoding is byte-level).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is malformed or uses an unsupported feature; the message names the file and the feature.</exception>
    public static BpeTokenizer Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file '{path}' does not exist.", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON: {e.Message}", e); }
        try
        {
            return Parse(root, path);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new InvalidDataException($"{path}: malformed tokenizer.json ({e.Message}).", e);
        }
    }

    private static BpeTokenizer Parse(JsonNode? root, string path)
    {
        var model = root?["model"] as JsonObject ?? throw new InvalidDataException($"{path}: no \"model\" object.");
        string? type = model["type"]?.GetValue<string>();
        if (type != null && type != "BPE") throw new InvalidDataException($"{path}: model type '{type}' is not supported (only BPE).");
        var spm = SentencePieceStyle.FromJson(root!.AsObject(), model, path);
        foreach (string affix in (string[])["continuing_subword_prefix", "end_of_word_suffix"])
            if (model[affix]?.GetValue<string>() is { Length: > 0 } v) throw new InvalidDataException($"{path}: model {affix} '{v}' is not supported.");
        bool ignoreMerges = model["ignore_merges"]?.GetValue<bool>() ?? false;
        bool nfc = spm is not null ? false : root!["normalizer"] switch
        {
            null => false,
            JsonObject n when n["type"]?.GetValue<string>() == "NFC" => true,
            var n => throw new InvalidDataException($"{path}: normalizer type '{n["type"]?.ToString() ?? n.ToJsonString()}' is not supported (null or NFC)."),
        };
        var pre = spm is null && root!["pre_tokenizer"] is { } p ? PreTokenizer.FromJson(p, path) : PreTokenizer.Gpt2;
        var vocabNode = model["vocab"] as JsonObject ?? throw new InvalidDataException($"{path}: model has no \"vocab\" object.");
        var vocab = new Dictionary<string, int>(vocabNode.Count, StringComparer.Ordinal);
        foreach (var (t, v) in vocabNode) vocab[t] = v!.GetValue<int>();
        var merges = new List<(string, string)>();
        if (model["merges"] is JsonArray ma)
            foreach (var m in ma)
            {
                if (m is JsonArray pair && pair.Count == 2) merges.Add((pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()));
                else if (m is JsonValue s && s.GetValue<string>() is { } str && str.IndexOf(' ') is var sp and > 0)
                    merges.Add((str[..sp], str[(sp + 1)..]));
                else throw new InvalidDataException($"{path}: malformed merge {m?.ToJsonString()}.");
            }
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        var notSpecial = new List<string>();
        if (root!["added_tokens"] is JsonArray at)
            foreach (var a in at)
            {
                string content = a!["content"]!.GetValue<string>();
                int id = a["id"]!.GetValue<int>();
                if (vocab.TryGetValue(content, out int vid) && vid == id) vocab.Remove(content);
                added[content] = id;
                if (a["special"]?.GetValue<bool>() == false) notSpecial.Add(content);
            }
        int? pad = root["padding"] is JsonObject padding ? padding["pad_id"]?.GetValue<int>() : null;
        return new BpeTokenizer(vocab, merges, added, pre, nfc, ignoreMerges, notSpecial, pad, spm);
    }
}
