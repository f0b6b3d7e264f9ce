using System.Text.Json.Nodes;
using Jepa.Training.Tokenization;

namespace Jepa.Tests.Tokenization;

/// <summary>SentencePiece-style BPE <c>tokenizer.json</c> files (Llama 2's and Gemma's layouts): ▁ for spaces, merges over
/// characters, byte fallback, the unknown token, decoding, and saving back.</summary>
public sealed class SentencePieceTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-spm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const int Unk = 0, Bos = 1, Eos = 2, Byte0 = 3, Space = 259, H = 260, I = 261, SpaceH = 262, SpaceHi = 263, E = 264, L = 265, LL = 266, SpaceHe = 267;

    /// <summary>A tiny vocabulary in the file layout: the three specials, the 256 byte tokens, then pieces; four merges.</summary>
    private static JsonObject File(JsonNode? normalizer, JsonNode? preTokenizer, bool strip, bool byteFallback = true)
    {
        var vocab = new JsonObject { ["<unk>"] = Unk, ["<s>"] = Bos, ["</s>"] = Eos };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = Byte0 + b;
        foreach (var (t, id) in new[] { ("▁", Space), ("h", H), ("i", I), ("▁h", SpaceH), ("▁hi", SpaceHi), ("e", E), ("l", L), ("ll", LL), ("▁he", SpaceHe) }) vocab[t] = id;
        var decoders = new JsonArray(new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
            new JsonObject { ["type"] = "ByteFallback" }, new JsonObject { ["type"] = "Fuse" });
        if (strip) decoders.Add(new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 });
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = Unk, ["content"] = "<unk>", ["special"] = true },
                new JsonObject { ["id"] = Bos, ["content"] = "<s>", ["special"] = true },
                new JsonObject { ["id"] = Eos, ["content"] = "</s>", ["special"] = true }),
            ["normalizer"] = normalizer, ["pre_tokenizer"] = preTokenizer,
            ["decoder"] = new JsonObject { ["type"] = "Sequence", ["decoders"] = decoders },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["unk_token"] = "<unk>", ["fuse_unk"] = true, ["byte_fallback"] = byteFallback,
                ["vocab"] = vocab, ["merges"] = new JsonArray("▁ h", "▁h i", "l l", "▁h e"),
            },
        };
    }

    private static JsonObject Replace() => new() { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" };

    /// <summary>Llama 2's layout: Prepend("▁") then Replace(" ", "▁"), no pre-tokenizer, a decoder that strips the first space.</summary>
    private static JsonObject Llama2() => File(new JsonObject
    {
        ["type"] = "Sequence", ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" }, Replace()),
    }, null, strip: true);

    private BpeTokenizer Load(JsonObject file, string name = "tokenizer.json")
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, file.ToJsonString());
        return BpeTokenizer.Load(path);
    }

    private static int B(int b) => Byte0 + b;

    [Fact]
    public void Llama2LayoutPrependsASpaceMergesCharactersAndFallsBackToBytes()
    {
        var t = Load(Llama2());
        Assert.NotNull(t.SentencePiece);
        Assert.Equal([SpaceHi], t.Encode("hi"));                       // ▁hi: ▁+h, then ▁h+i
        Assert.Equal([SpaceHi, SpaceHi], t.Encode("hi hi"));
        Assert.Equal([SpaceH, B(0xC3), B(0xA9)], t.Encode("hé"));      // é is not a piece: its two UTF-8 bytes
        // merges by rank: ▁+h, then l+l (rank 2) before ▁h+e (rank 3); a surrogate pair is one character, four bytes
        Assert.Equal([SpaceHe, LL, B(0xF0), B(0x9F), B(0x98), B(0x80)], t.Encode("hell😀"));
        Assert.Equal([], t.Encode(""));
        Assert.Equal("hi hi", t.Decode([SpaceHi, SpaceHi]));           // the decoder strips the prepended space
        Assert.Equal("hé", t.Decode([SpaceH, B(0xC3), B(0xA9)]));
        Assert.Equal("hell😀", t.Decode(t.Encode("hell😀")));
        Assert.Equal("hi", t.Decode([Bos, SpaceHi, Eos]));              // special tokens are skipped
        // added tokens in chat template text; the normaliser runs on each piece between them, as in the reference library
        Assert.Equal([Bos, SpaceHi, Eos, SpaceH], t.EncodeWithAddedTokens("<s>hi</s>h"));
    }

    [Fact]
    public void GemmaLayoutHasNoPrependedSpaceAndKeepsTheLeadingSpaceWhenDecoding()
    {
        var split = new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = " " }, ["behavior"] = "MergedWithPrevious", ["invert"] = false };
        var t = Load(File(Replace(), split, strip: false));
        Assert.False(t.SentencePiece!.PrependSpace);
        Assert.Equal([H, I], t.Encode("hi"));
        Assert.Equal([SpaceHi, Space], t.Encode(" hi "));
        Assert.Equal(" hi", t.Decode([SpaceHi]));
    }

    [Fact]
    public void MetaspacePreTokenizerIsTheSameAsTheNormaliserFormAndFirstIsRefused()
    {
        var always = Load(File(null, new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "always", ["split"] = false }, strip: true), "m.json");
        var llama2 = Load(Llama2());
        foreach (string text in (string[])["hi", "hi hi", " hé", "ll hell"]) Assert.Equal(llama2.Encode(text), always.Encode(text));
        var first = File(null, new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false }, strip: true);
        Assert.Contains("prepend_scheme 'first'", Assert.Throws<InvalidDataException>(() => Load(first, "f.json")).Message);
        Assert.Contains("normalizer", Assert.Throws<InvalidDataException>(() => Load(File(new JsonObject { ["type"] = "NFKC" }, null, strip: false), "n.json")).Message);
    }

    [Fact]
    public void WithoutByteFallbackARunOfUnknownCharactersIsOneUnknownToken()
    {
        var t = Load(File(Replace(), null, strip: false, byteFallback: false));
        Assert.Equal([H, Unk, I], t.Encode("hçéi"));
        Assert.Equal([SpaceH, Unk], t.Encode(" hé"));
    }

    [Fact]
    public void AMissingByteTokenIsNamed()
    {
        var file = Llama2();
        ((JsonObject)file["model"]!["vocab"]!).Remove("<0x7F>");
        Assert.Contains("<0x7F>", Assert.Throws<InvalidDataException>(() => Load(file)).Message);
    }

    [Fact]
    public void SavedFileLoadsBackTheSameWithPredictorsAndPadding()
    {
        var t = Load(Llama2()).WithPredictors(2, 300).WithPad(Eos);
        string path = Path.Combine(_dir, "saved.json");
        t.Save(path);
        var back = BpeTokenizer.Load(path);
        Assert.Equal(t.SentencePiece, back.SentencePiece);
        Assert.Equal(t.Special.Pad, back.Special.Pad);
        Assert.Equal([300, 301], back.Special.Predictors);
        foreach (string text in (string[])["hi", "hell hé", " ll😀 "]) Assert.Equal(t.Encode(text), back.Encode(text));
        Assert.Equal("hi", back.Decode([SpaceHi, 300]));
        var json = JsonNode.Parse(System.IO.File.ReadAllText(path))!;
        Assert.True(json["model"]!["byte_fallback"]!.GetValue<bool>());
        Assert.Contains("Prepend", json["normalizer"]!.ToJsonString());
        Assert.Contains("Strip", json["decoder"]!.ToJsonString());
    }
}
