using Jepa.Training.Data;
using Jepa.Training.Tokenization;

namespace Jepa.Tests.Data;

public sealed class JsonlAndTemplateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(params string[] lines)
    {
        string p = Path.Combine(_dir, $"d{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(p, lines);
        return p;
    }

    private const string Chat = """{"messages": [{"role": "system", "content": "Convert natural language to regular expression."}, {"role": "user", "content": "lines with a number"}, {"role": "assistant", "content": ".*[0-9].*"}]}""";

    [Fact]
    public void ReadsChatAndPlainForms()
    {
        var r = JsonlPairReader.Read(Write(Chat, "", """{"text": "hi", "code": "x"}"""));
        Assert.Equal(2, r.Examples.Count);
        Assert.Equal(new PairExample("Convert natural language to regular expression.", "lines with a number", ".*[0-9].*"), r.Examples[0]);
        Assert.Equal(new PairExample(null, "hi", "x"), r.Examples[1]);
    }

    [Theory]
    [InlineData("{not json", "invalid JSON")]
    [InlineData("""{"messages": [{"role": "user", "content": "a"}]}""", "no assistant message")]
    [InlineData("""{"messages": [{"role": "robot", "content": "a"}]}""", "unknown role \"robot\"")]
    [InlineData("""{"text": 3, "code": "x"}""", "must be strings")]
    [InlineData("[1,2]", "expected a JSON object")]
    [InlineData("""{"text": "a\ud800b", "code": "x"}""", "lone UTF-16 surrogate")]
    [InlineData("""{"messages": [{"role": "user", "content": "\udc00"}, {"role": "assistant", "content": "x"}]}""", "lone UTF-16 surrogate")]
    public void MalformedLineNamesFileLineAndReason(string bad, string reason)
    {
        string p = Write(Chat, bad);
        var e = Assert.Throws<InvalidDataException>(() => JsonlPairReader.Read(p));
        Assert.Contains($"{p}:2:", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void InvalidUtf8IsAnErrorOrSkippedNeverReplaced()
    {
        string p = Path.Combine(_dir, "bytes.jsonl");
        byte[] good = System.Text.Encoding.UTF8.GetBytes("{\"text\": \"é\", \"code\": \"x\"}\r\n");
        byte[] bad = [.. "{\"text\": \"a"u8, 0xFF, .. "b\", \"code\": \"y\"}\n"u8];
        File.WriteAllBytes(p, [0xEF, 0xBB, 0xBF, .. good, .. bad, .. good]);
        var e = Assert.Throws<InvalidDataException>(() => JsonlPairReader.Read(p));
        Assert.Contains($"{p}:2: invalid UTF-8", e.Message);
        var r = JsonlPairReader.Read(p, skipBad: true);
        Assert.Equal(2, r.Examples.Count);
        Assert.All(r.Examples, x => Assert.Equal(new PairExample(null, "é", "x"), x));
        Assert.Equal(1, r.Skipped);
    }

    [Fact]
    public void SkipBadCountsAndReportsSkippedLines()
    {
        var r = JsonlPairReader.Read(Write("{oops", Chat, "{}"), skipBad: true);
        Assert.Single(r.Examples);
        Assert.Equal(2, r.Skipped);
        Assert.Contains(":1:", r.Problems[0]);
        Assert.Contains(":3:", r.Problems[1]);
    }

    [Fact]
    public void ByteTokenizerRoundTripsUnicode()
    {
        var t = new ByteTokenizer(predictorTokens: 4);
        Assert.Equal(256 + 7 + 4, t.VocabSize);
        string s = "lines with 'dog' — naïve ✓ \\b[0-9]{2,}";
        Assert.Equal(s, t.Decode(t.Encode(s)));
        Assert.Equal("[PRED_2]", t.TokenName(t.Special.Predictors[1]));
    }

    [Fact]
    public void TemplateLabelsOnlyTheAnswer()
    {
        var tok = new ByteTokenizer();
        var tpl = new ChatTemplate(tok);
        var e = tpl.Encode(new PairExample("sys", "ab", "xy"), maxLength: 256);
        int[] prompt = tpl.Prompt("sys", "ab");
        Assert.Equal(prompt.Length + 3, e.Full.Length);
        var labelled = e.Labels.Select((l, i) => (l, i)).Where(p => p.l != ChatTemplate.IgnoreIndex).ToArray();
        // the answer: 'x', 'y', <|end|>, each predicted from the position before it
        // the ids of the jepa layout, unchanged since the fixed template: <|bos|> 257, <|system|> 259, <|user|> 260, <|assistant|> 261, <|end|> 262
        const int bos = 257, system = 259, user = 260, assistant = 261, end = 262;
        Assert.Equal(new[] { bos, system, 's', 'y', 's', end, user, 'a', 'b', end, assistant }, prompt);
        Assert.Equal(new[] { (int)'x', 'y', end }, labelled.Select(p => p.l).ToArray());
        Assert.Equal(prompt.Length - 1, labelled[0].i);
        Assert.Equal(new[] { bos, user, 'a', 'b', end }, e.TextView);
        Assert.Equal(new[] { bos, assistant, 'x', 'y', end }, e.CodeView);
        Assert.Equal(new[] { end, 258 }, tpl.StopIds);
        Assert.False(e.Truncated);
        var cut = tpl.Encode(new PairExample(null, "abcdef", "xyz"), maxLength: 8);
        Assert.True(cut.Truncated);
        Assert.Equal(8, cut.Full.Length);
        Assert.Equal(ChatTemplate.IgnoreIndex, cut.Labels[^1]);
    }
}
