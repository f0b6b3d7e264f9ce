using System.Text.Json.Nodes;
using Jepa.Training.Tokenization;
using BpeTokenizer = Jepa.Training.Tokenization.BpeTokenizer;
using TiktokenTokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer;

namespace Jepa.Tests.Tokenization;

/// <summary>
/// The file-regex pre-tokenizer path on a real vocabulary: OpenAI's o200k_base (GPT-4o) ranks, shipped by the
/// Microsoft.ML.Tokenizers.Data.O200kBase package, written as a tokenizer.json with the pre-tokenizer
/// <c>Sequence[Split(o200k's regex, Isolated), ByteLevel(use_regex: false)]</c> (the layout Llama 3 and Qwen2 use),
/// loaded with <see cref="BpeTokenizer.Load"/> and compared with Microsoft.ML.Tokenizers' encoder on varied text.
/// </summary>
public sealed class O200kVocabularyTests : IDisposable
{
    /// <summary>o200k_base's pre-tokenizer regex (tiktoken's).</summary>
    private const string O200kPattern =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        + @"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        + @"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-o200k-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LoadedO200kTokenizerJsonWithFileRegexMatchesMicrosoftMlTokenizers()
    {
        var ranks = RealVocabularyTests.Ranks("Microsoft.ML.Tokenizers.Data.O200kBase", "o200k_base.tiktoken.deflate");
        var pre = PreTokenizer.FromJson(new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = O200kPattern }, ["behavior"] = "Isolated", ["invert"] = false },
                PreTokenizer.ByteLevelJson(useRegex: false)),
        }, "o200k");
        var built = new BpeTokenizer(ranks, RealVocabularyTests.MergesOf(ranks),
            new Dictionary<string, int> { ["<|endoftext|>"] = 199999, ["<|endofprompt|>"] = 200018 }, pre);
        string path = Path.Combine(_dir, "tokenizer.json");
        built.Save(path);
        Assert.Contains("\"Regex\"", File.ReadAllText(path));
        var t = BpeTokenizer.Load(path);
        Assert.Equal(200019, t.VocabSize);
        Assert.Empty(t.Special.Predictors);
        Assert.Equal(199999, t.Special.Pad);

        var reference = TiktokenTokenizer.CreateForModel("gpt-4o");
        string[] texts =
        [
            "Hello world", "The quick brown fox jumps over the lazy dog.",
            "1234567890 and 3.14159, 42nd street, 1,000,000 items",
            "I'M sure they'll say it's fine; WE'VE done it, you'd agree? THEY'RE here.",
            "naïve café — résumé, Straße, Ελληνικά, русский текст, 日本語のテキスト, 中文文本, 한국어",
            "tabs\tand  double  spaces   and\n\nnew lines\r\n  indented\n    code();",
            "trailing spaces   ", "   leading", "emoji 🙂🚀 and symbols ©®™ ∑∫√ <tag attr=\"v\"/> a/b/c //x",
            "CamelCaseWords HTTPServer getHTTPResponse XMLHttpRequest",
            "def f(x):\n    return x**2 + 1  # comment\n",
        ];
        foreach (string s in texts)
        {
            Assert.Equal(reference.EncodeToIds(s).ToArray(), t.Encode(s));
            Assert.Equal(s, t.Decode(t.Encode(s)));
        }
        // The GPT-2 regex splits digits and case differently: the file's regex is what makes these match.
        var gpt2 = new BpeTokenizer(ranks, built.Merges);
        Assert.NotEqual(reference.EncodeToIds(texts[2]).ToArray(), gpt2.Encode(texts[2]));
    }
}
