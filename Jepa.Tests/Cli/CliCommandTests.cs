using Jepa.Cli;

namespace Jepa.Tests.Cli;

/// <summary>Help, data generation, device listing and the self-test.</summary>
public sealed class CliCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-cmd-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void EveryCommandHasHelpFromItsOptionTable()
    {
        var top = CliRunner.Run("--help");
        Assert.Equal(0, top.Code);
        foreach (var c in CliApp.Commands)
        {
            Assert.Contains(c.Options.Command, top.Out);
            var r = CliRunner.Run([.. c.Options.Command.Split(' '), "--help"]);
            Assert.True(r.Code == 0, r.ToString());
            Assert.StartsWith($"usage: jepa {c.Options.Command}", r.Out);
            foreach (var o in c.Options.Options) Assert.Contains("--" + o.Name, r.Out);
        }
        Assert.Equal(2, CliRunner.Run().Code);
    }

    [Fact]
    public void TokenizerTrainWritesALoadableDeterministicTokenizer()
    {
        string data = Path.Combine(_root, "tok-data.jsonl"), a = Path.Combine(_root, "a.json"), b = Path.Combine(_root, "b.json");
        Assert.Equal(0, CliRunner.Run("data", "regex", "--count", "200", "--seed", "3", "--out", data).Code);
        var r = CliRunner.Run("tokenizer", "train", "--data", data, "--vocab", "400", "--predictors", "4", "--out", a);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("wrote", r.Out);
        Assert.Equal(0, CliRunner.Run("tokenizer", "train", "--data", data, "--vocab", "400", "--predictors", "4", "--out", b).Code);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        var tok = Jepa.Training.Tokenization.BpeTokenizer.Load(a);
        Assert.True(tok.VocabSize <= 400 && tok.VocabSize > 256 + 7 + 4, $"vocab {tok.VocabSize}");
        string text = "lines with a number before the string 'dog'";
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
        Assert.True(tok.Encode(text).Length < text.Length);
        Assert.Equal(1, CliRunner.Run("tokenizer", "train", "--data", Path.Combine(_root, "missing.jsonl"), "--out", a).Code);
    }

    [Fact]
    public void DataRegexIsDeterministic()
    {
        string a = Path.Combine(_root, "a.jsonl"), b = Path.Combine(_root, "b.jsonl"), c = Path.Combine(_root, "c.jsonl"), d = Path.Combine(_root, "d.jsonl");
        Assert.Equal(0, CliRunner.Run("data", "regex", "--count", "20", "--seed", "7", "--out", a).Code);
        Assert.Equal(0, CliRunner.Run("data", "regex", "--count", "20", "--seed", "7", "--out", b).Code);
        Assert.Equal(0, CliRunner.Run("data", "regex", "--count", "8", "--seed", "7", "--out", c).Code);
        var r = CliRunner.Run("data", "regex", "--count", "20", "--seed", "8", "--out", d);
        Assert.Contains("wrote 20 regex pairs (seed 8)", r.Out);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.Equal(File.ReadAllLines(a)[..8], File.ReadAllLines(c)); // example i does not depend on the count
        Assert.NotEqual(File.ReadAllLines(a), File.ReadAllLines(d));
        Assert.All(File.ReadAllLines(a), l => Assert.StartsWith("{\"messages\":[{\"role\":\"system\"", l));
    }

    [Fact]
    public void DevicesListsTheCpuAccelerator()
    {
        var r = CliRunner.Run("devices");
        Assert.Equal(0, r.Code);
        Assert.Contains("CPU", r.Out, StringComparison.OrdinalIgnoreCase);
        var json = CliRunner.Run("devices", "--json");
        Assert.Contains("\"kind\":\"cpu\"", json.Out);
    }

    [Fact]
    public void SelfTestOnTheCpuPassesEveryOp()
    {
        var r = CliRunner.Run("selftest", "--device", "cpu");
        Assert.True(r.Code == 0, r.ToString());
        foreach (string op in (string[])["matmul NN", "matmul NT", "matmul TN", "attention fwd", "attention bwd", "rmsnorm", "softmax", "rope",
                     "swiglu", "embedding", "cross-entropy", "jepa distance cosine", "jepa distance infonce", "adamw", "reductions"])
            Assert.Contains(op, r.Out);
        Assert.Contains("cpu host vs cpu kernel", r.Out);
        Assert.DoesNotContain("FAIL", r.Out);
        Assert.Contains("comparisons passed", r.Out);
    }
}
