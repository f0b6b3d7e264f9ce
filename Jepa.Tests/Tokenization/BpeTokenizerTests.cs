using Jepa.Training.Tokenization;

namespace Jepa.Tests.Tokenization;

public sealed class BpeTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-bpe-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Corpus =
    [
        "lines containing the word dog", "lines that contain the word cat followed by a number",
        "lines starting with a vowel", "lines ending in the letter z", ".*dog.*", ".*cat.*[0-9].*",
        "([AEIOUaeiou]).*", ".*z", "the quick brown fox jumps over the lazy dog, doesn't it?",
        "héllo wörld — naïve café 日本語 ✓ 🙂",
    ];

    private static BpeTokenizer Train(int vocab = 360) => BpeTrainer.Train(Corpus, vocab, predictorTokens: 4);

    [Theory]
    [InlineData("")]
    [InlineData("hello world")]
    [InlineData("  leading and trailing spaces \t\n\r\n ")]
    [InlineData("unseen: Ωμέγα ∑ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🙂🙃 \u0000\u0007 zzzz")]
    [InlineData("lines containing the word dog .*dog.*")]
    public void RoundTripsArbitraryUnicode(string text)
    {
        var t = Train();
        Assert.Equal(text, t.Decode(t.Encode(text)));
    }

    [Fact]
    public void RoundTripsRandomCodePoints()
    {
        var t = Train();
        var rng = new Random(7);
        for (int n = 0; n < 20; n++)
        {
            var sb = new System.Text.StringBuilder();
            for (int i = 0; i < 40; i++)
            {
                int cp = rng.Next(4) switch { 0 => rng.Next(32, 127), 1 => rng.Next(0xA0, 0x800), 2 => rng.Next(0x4E00, 0x9FFF), _ => rng.Next(0x1F300, 0x1F6FF) };
                sb.Append(char.ConvertFromUtf32(cp));
            }
            string s = sb.ToString();
            Assert.Equal(s, t.Decode(t.Encode(s)));
        }
    }

    [Fact]
    public void TrainingIsDeterministic()
    {
        var a = Train();
        var b = BpeTrainer.Train(Corpus.Reverse(), 360, predictorTokens: 4);
        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(a.VocabSize, b.VocabSize);
        foreach (string s in Corpus) Assert.Equal(a.Encode(s), b.Encode(s));
    }

    [Fact]
    public void VocabularyAndSpecialTokensHaveTheAskedLayout()
    {
        var t = Train(290);
        Assert.Equal(290, t.VocabSize);
        int merges = 290 - 256 - 7 - 4;
        Assert.Equal(merges, t.Merges.Count);
        var s = t.Special;
        Assert.Equal(256 + merges, s.Pad);
        Assert.Equal(Enumerable.Range(s.Pad, 7), ByteTokenizer.SpecialNames.Select(n => t.AddedTokens[n]));
        Assert.Equal(Enumerable.Range(s.Pad + 7, 4), s.Predictors);
        Assert.Equal("<|assistant|>", t.TokenName(t.TokenId("<|assistant|>")!.Value));
        Assert.Equal("[PRED_4]", t.TokenName(s.Predictors[3]));
        Assert.Equal("ab", t.Decode([.. t.Encode("a"), t.AddedTokens["<|bos|>"], s.Predictors[0], .. t.Encode("b")]));
    }

    [Fact]
    public void MergesReduceTokenCountOnTrainingText()
    {
        var t = Train(100_000);
        Assert.True(t.VocabSize < 100_000, "training stops when no pair occurs twice");
        var bytes = new ByteTokenizer(4);
        int bpe = Corpus.Sum(s => t.Encode(s).Length), raw = Corpus.Sum(s => bytes.Encode(s).Length);
        Assert.True(bpe < raw * 0.6, $"BPE {bpe} tokens vs {raw} bytes");
        Assert.True(t.Encode("lines").Length == 1);
    }

    [Fact]
    public void SaveThenLoadGivesIdenticalIds()
    {
        var t = Train();
        string p = Path.Combine(_dir, "tokenizer.json");
        t.Save(p);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp*"));
        var u = BpeTokenizer.Load(p);
        Assert.Equal(t.VocabSize, u.VocabSize);
        Assert.Equal(t.Special.Predictors, u.Special.Predictors);
        Assert.Equal(t.Special with { Predictors = [] }, u.Special with { Predictors = [] });
        Assert.Equal(t.Merges, u.Merges);
        foreach (string s in Corpus.Append("unseen text ✓ 42"))
            Assert.Equal(t.Encode(s), u.Encode(s));
        string json = File.ReadAllText(p);
        Assert.Contains("\"type\": \"BPE\"", json);
        Assert.Contains("\"type\": \"ByteLevel\"", json);
        Assert.Contains("\"special\": true", json);
    }

    [Fact]
    public void LoadAcceptsStringMergesAndAppendsMissingSpecials()
    {
        string p = Path.Combine(_dir, "plain.json");
        var vocab = string.Join(",", Enumerable.Range(0, 256).Select(b => $"\"{Esc(ByteLevel.Char((byte)b))}\": {b}"));
        File.WriteAllText(p, $$"""{"model": {"type": "BPE", "vocab": { {{vocab}}, "ab": 256 }, "merges": ["a b"]}, "added_tokens": [{"id": 257, "content": "<|endoftext|>", "special": true}]}""");
        var plain = BpeTokenizer.Load(p);
        Assert.Equal(258, plain.VocabSize);
        Assert.Empty(plain.Special.Predictors);
        Assert.Equal(257, plain.Special.Pad); // <|endoftext|> pads when there is no <|pad|>
        var t = plain.WithJepaSpecials(predictorTokens: 2);
        Assert.Equal([256, 99], t.Encode("abc"));
        Assert.Equal(258, t.Special.Pad);
        Assert.Equal(258 + 7 + 2, t.VocabSize);
        Assert.Equal("abc", t.Decode([257, 256, 99]));
    }

    private static string Esc(char c) => c is '"' or '\\' ? "\\" + c : c.ToString();

    [Fact]
    public void TooSmallVocabularyIsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(Corpus, 200, predictorTokens: 4));
        Assert.Contains("at least 267", e.Message);
    }
}
