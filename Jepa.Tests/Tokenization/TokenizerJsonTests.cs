using System.Text.Json.Nodes;
using Jepa.Training.Tokenization;
using BpeTokenizer = Jepa.Training.Tokenization.BpeTokenizer;

namespace Jepa.Tests.Tokenization;

/// <summary>
/// tokenizer.json features of real models on hand-made files: a Llama-3-style tokenizer (Sequence[Split(regex),
/// ByteLevel(use_regex: false)], ignore_merges, added tokens at high ids), NFC, ByteLevel's add_prefix_space,
/// unsupported features, predictor tokens at the model's vocabulary size, and Hugging Face folders.
/// </summary>
public sealed class TokenizerJsonTests : IDisposable
{
    /// <summary>Llama 3's pre-tokenizer regex.</summary>
    private const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-tokjson-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject ByteVocab()
    {
        var v = new JsonObject();
        for (int b = 0; b < 256; b++) v[ByteLevel.Char((byte)b).ToString()] = b;
        return v;
    }

    /// <summary>256 bytes, "hello" 256, "Ġworld" 257, "123" 258, "he" 259 (merge "h e"); added &lt;|begin_of_text|&gt; 300, &lt;|eot_id|&gt; 301.</summary>
    private string WriteLlamaStyle(bool ignoreMerges, string name = "tokenizer.json", JsonNode? preTokenizer = null, JsonNode? normalizer = null, string modelType = "BPE")
    {
        var vocab = ByteVocab();
        vocab["hello"] = 256;
        vocab["Ġworld"] = 257;
        vocab["123"] = 258;
        vocab["he"] = 259;
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 300, ["content"] = "<|begin_of_text|>", ["special"] = true },
                new JsonObject { ["id"] = 301, ["content"] = "<|eot_id|>", ["special"] = true }),
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer ?? new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Llama3Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = modelType, ["ignore_merges"] = ignoreMerges, ["byte_fallback"] = false,
                ["vocab"] = vocab, ["merges"] = new JsonArray(new JsonArray("h", "e")),
            },
        };
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    [Fact]
    public void LlamaStyleTokenizerFollowsTheFileRegexAndIgnoreMerges()
    {
        var t = BpeTokenizer.Load(WriteLlamaStyle(ignoreMerges: true));
        // pieces: "hello" " world" " " "123" "45" — whole pieces in the vocabulary are one token; "45" is two bytes
        Assert.Equal([256, 257, 32, 258, 52, 53], t.Encode("hello world 12345"));
        // "help" is not in the vocabulary: merges apply ("h e" → 259)
        Assert.Equal([259, 108, 112], t.Encode("help"));
        // case-insensitive contractions are their own pieces: "I" "'M" (2 bytes)
        Assert.Equal([73, 39, 77], t.Encode("I'M"));
        Assert.Equal(302, t.VocabSize);
        Assert.Equal(301, t.TokenId("<|eot_id|>"));
        Assert.Equal(300, t.AddedTokens["<|begin_of_text|>"]);
        Assert.DoesNotContain(301, t.Encode("say <|eot_id|> now")); // plain text never yields a special token
        Assert.Equal([300, 256, 301], t.EncodeWithAddedTokens("<|begin_of_text|>hello<|eot_id|>"));
        Assert.Equal("hello world", t.Decode([300, 256, 257, 301]));
        Assert.Empty(t.Special.Predictors);

        var plain = BpeTokenizer.Load(WriteLlamaStyle(ignoreMerges: false, name: "merges.json"));
        Assert.Equal([259, 108, 108, 111], plain.Encode("hello")); // without ignore_merges: BPE from bytes

        // predictor tokens at the model's vocabulary size, past the tokenizer's own ids; no jepa specials
        var p = t.WithPredictors(3, firstId: 320);
        Assert.Equal([320, 321, 322], p.Special.Predictors);
        Assert.Equal(323, p.VocabSize);
        Assert.Null(p.TokenId("<|bos|>"));
        Assert.Equal(t.Encode("hello world 12345"), p.Encode("hello world 12345"));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.WithPredictors(2, firstId: 301));
        Assert.Throws<ArgumentException>(() => p.WithPredictors(2, firstId: 400));

        // saved and loaded back: same pre-tokenizer, ignore_merges and ids
        string saved = Path.Combine(_dir, "saved.json");
        p.Save(saved);
        var q = BpeTokenizer.Load(saved);
        Assert.True(q.IgnoreMerges);
        Assert.Equal(p.Special.Pad, q.Special.Pad);
        Assert.Equal(p.Special.Predictors, q.Special.Predictors);
        foreach (string s in new[] { "hello world 12345", "help I'M", "  x\n\ny" }) Assert.Equal(p.Encode(s), q.Encode(s));
    }

    [Fact]
    public void NfcAndPrefixSpaceAreHonoured()
    {
        var nfc = BpeTokenizer.Load(WriteLlamaStyle(true, "nfc.json", normalizer: new JsonObject { ["type"] = "NFC" }));
        Assert.True(nfc.Nfc);
        Assert.Equal(nfc.Encode("caf\u00e9"), nfc.Encode("cafe\u0301"));
        var raw = BpeTokenizer.Load(WriteLlamaStyle(true, "raw.json"));
        Assert.NotEqual(raw.Encode("caf\u00e9"), raw.Encode("cafe\u0301"));

        var prefix = BpeTokenizer.Load(WriteLlamaStyle(true, "prefix.json",
            preTokenizer: new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["use_regex"] = true }));
        Assert.Equal([257], prefix.Encode("world")); // " world" is one token
        var gpt2 = BpeTokenizer.Load(WriteLlamaStyle(true, "gpt2.json", preTokenizer: PreTokenizer.ByteLevelJson()));
        // GPT-2's regex keeps " 123" as one piece (not in the vocabulary: bytes); Llama 3's splits " " and "123"
        Assert.Equal([256, 257, 32, 49, 50, 51], gpt2.Encode("hello world 123"));
        Assert.Equal([256, 257, 32, 258], raw.Encode("hello world 123"));
    }

    [Fact]
    public void UnsupportedFeaturesAreErrorsNamingThem()
    {
        var e = Assert.Throws<InvalidDataException>(() => BpeTokenizer.Load(WriteLlamaStyle(true, "ws.json", preTokenizer: new JsonObject { ["type"] = "Whitespace" })));
        Assert.Contains("'Whitespace'", e.Message);
        Assert.Contains("ws.json", e.Message);
        e = Assert.Throws<InvalidDataException>(() => BpeTokenizer.Load(WriteLlamaStyle(true, "lc.json", normalizer: new JsonObject { ["type"] = "Lowercase" })));
        Assert.Contains("'Lowercase'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => BpeTokenizer.Load(WriteLlamaStyle(true, "wp.json", modelType: "WordPiece")));
        Assert.Contains("'WordPiece'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => BpeTokenizer.Load(WriteLlamaStyle(true, "rm.json", preTokenizer: new JsonObject
        {
            ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = "\\s" }, ["behavior"] = "Removed", ["invert"] = false,
        })));
        Assert.Contains("'Removed'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => BpeTokenizer.Load(WriteLlamaStyle(true, "bad.json", preTokenizer: new JsonObject
        {
            ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = "(unclosed" }, ["behavior"] = "Isolated",
        })));
        Assert.Contains("regex", e.Message);
    }

    [Fact]
    public void HfFolderGivesTokenizerAndDetectedFormat()
    {
        string dir = Path.Combine(_dir, "llama");
        Directory.CreateDirectory(dir);
        File.Copy(WriteLlamaStyle(true), Path.Combine(dir, "tokenizer.json"));
        var missing = Assert.Throws<FileNotFoundException>(() => HfTokenizer.LoadFolder(dir));
        Assert.Contains("tokenizer_config.json", missing.Message);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """
            {"bos_token": "<|begin_of_text|>", "eos_token": {"content": "<|eot_id|>"},
             "chat_template": "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"}
            """);
        var folder = HfTokenizer.LoadFolder(dir);
        Assert.Equal(ChatFormat.Llama3, folder.Format);
        Assert.Equal("<|begin_of_text|>", folder.BosToken);
        Assert.Equal("<|eot_id|>", folder.EosToken);
        Assert.Equal(301, folder.Tokenizer.Special.Pad);
        Assert.Equal(ChatFormat.ChatMl, HfTokenizer.LoadFolder(dir, ChatFormat.ChatMl).Format);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"chat_template": "{{ message.content }}"}""");
        var unknown = Assert.Throws<InvalidDataException>(() => HfTokenizer.LoadFolder(dir));
        Assert.Contains("--chat-template", unknown.Message);
        File.Delete(Path.Combine(dir, "tokenizer.json"));
        Assert.Contains("tokenizer.json", Assert.Throws<FileNotFoundException>(() => HfTokenizer.LoadFolder(dir)).Message);
    }
}
