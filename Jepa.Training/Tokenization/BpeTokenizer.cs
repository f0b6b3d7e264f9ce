using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Training.Tokenization;

/// <summary>
/// A GPT-2-style byte-level BPE tokenizer: text is split by the GPT-2 pre-tokenizer regex
/// (<see cref="ByteLevel.Pattern"/>), each piece's UTF-8 bytes are mapped to printable characters
/// (<see cref="ByteLevel.Char"/>) and merged by rank. Carries the same special tokens as
/// <see cref="ByteTokenizer"/> (<c>&lt;|pad|&gt;</c> … <c>&lt;|end|&gt;</c> and <c>[PRED_1..k]</c>).
/// Saved and loaded as a Hugging Face <c>tokenizer.json</c> (model type "BPE", ByteLevel pre-tokenizer and decoder).
/// </summary>
public sealed class BpeTokenizer : ITokenizer
{
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<int, string> _tokens;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly List<(string Left, string Right)> _merges;
    private readonly SortedDictionary<int, string> _added;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates a tokenizer from a vocabulary (byte-level token string → id), its merges in rank order and
    /// the added (special) tokens. Special tokens missing from <paramref name="added"/> (as in a real model's
    /// tokenizer.json) are appended after the highest id, with <paramref name="predictorTokens"/> predictor tokens
    /// when none are present.
    /// </summary>
    public BpeTokenizer(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        IReadOnlyDictionary<string, int>? added = null, int predictorTokens = 8)
    {
        if (predictorTokens < 0 || predictorTokens > 64)
            throw new ArgumentOutOfRangeException(nameof(predictorTokens), predictorTokens, "Predictor tokens must be between 0 and 64.");
        _ids = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        _tokens = new Dictionary<int, string>();
        foreach (var (t, id) in _ids)
            if (!_tokens.TryAdd(id, t)) throw new InvalidDataException($"BPE vocabulary: id {id} is used by both '{_tokens[id]}' and '{t}'.");
        for (int b = 0; b < 256; b++)
            if (!_ids.ContainsKey(ByteLevel.Char((byte)b).ToString()))
                throw new InvalidDataException($"BPE vocabulary: byte 0x{b:X2} ('{ByteLevel.Char((byte)b)}') has no token; not a byte-level vocabulary.");
        _merges = [.. merges];
        _ranks = new Dictionary<(string, string), int>();
        for (int r = 0; r < _merges.Count; r++) _ranks.TryAdd(_merges[r], r);
        _added = new SortedDictionary<int, string>();
        if (added != null)
            foreach (var (t, id) in added) _added[id] = t;
        var byName = _added.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
        int next = Math.Max(_tokens.Count == 0 ? 0 : _tokens.Keys.Max(), _added.Count == 0 ? 0 : _added.Keys.Max()) + 1;
        int Need(string name)
        {
            if (byName.TryGetValue(name, out int id)) return id;
            id = next++;
            byName[name] = id;
            _added[id] = name;
            return id;
        }
        var fixedIds = ByteTokenizer.SpecialNames.Select(Need).ToArray();
        int present = 0;
        while (byName.ContainsKey(PredictorName(present + 1))) present++;
        int k = present > 0 ? present : predictorTokens;
        var preds = Enumerable.Range(1, k).Select(i => Need(PredictorName(i))).ToArray();
        Special = new SpecialTokens(fixedIds[0], fixedIds[1], fixedIds[2], fixedIds[3], fixedIds[4], fixedIds[5], fixedIds[6], preds);
        VocabSize = Math.Max(_tokens.Keys.Max(), _added.Keys.Max()) + 1;
    }

    /// <summary>The name of predictor token <paramref name="i"/> (1-based): <c>[PRED_i]</c>.</summary>
    public static string PredictorName(int i) => $"[PRED_{i}]";

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <inheritdoc />
    public SpecialTokens Special { get; }

    /// <summary>The merges, highest priority first.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges => _merges;

    /// <summary>The token string of an id (byte-level form, or a special token's name), or null if unused.</summary>
    public string? TokenName(int id) => _tokens.TryGetValue(id, out var t) ? t : _added.TryGetValue(id, out var a) ? a : null;

    /// <inheritdoc />
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length);
        foreach (string piece in ByteLevel.PreTokenize(text))
            ids.AddRange(_cache.GetOrAdd(piece, EncodePiece));
        return [.. ids];
    }

    /// <inheritdoc />
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 2);
        foreach (int id in ids)
            if (_tokens.TryGetValue(id, out var t)) ByteLevel.TryAppendBytes(t, bytes);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private int[] EncodePiece(string piece)
    {
        var syms = new List<string>();
        foreach (char c in ByteLevel.Encode(piece)) syms.Add(c.ToString());
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
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        JsonObject ByteLevelNode() => new()
        {
            ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true,
        };
        var root = new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null,
            ["added_tokens"] = added, ["normalizer"] = null,
            ["pre_tokenizer"] = ByteLevelNode(), ["post_processor"] = null, ["decoder"] = ByteLevelNode(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        string full = Path.GetFullPath(path);
        string tmp = full + $".tmp{Environment.ProcessId}";
        File.WriteAllText(tmp, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), new UTF8Encoding(false));
        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>
    /// Loads a Hugging Face byte-level BPE <c>tokenizer.json</c> (ours, or a real model's such as GPT-2's).
    /// Merges may be "a b" strings or [a, b] pairs. Special tokens absent from the file are appended
    /// (see the constructor), with <paramref name="predictorTokens"/> predictor tokens when none are present.
    /// </summary>
    public static BpeTokenizer Load(string path, int predictorTokens = 8)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON: {e.Message}", e); }
        var model = root?["model"] as JsonObject ?? throw new InvalidDataException($"{path}: no \"model\" object.");
        string? type = model["type"]?.GetValue<string>();
        if (type != null && type != "BPE") throw new InvalidDataException($"{path}: model type '{type}' is not BPE.");
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
        if (root!["added_tokens"] is JsonArray at)
            foreach (var a in at)
            {
                string content = a!["content"]!.GetValue<string>();
                int id = a["id"]!.GetValue<int>();
                vocab.Remove(content);
                added[content] = id;
            }
        return new BpeTokenizer(vocab, merges, added, predictorTokens);
    }
}
