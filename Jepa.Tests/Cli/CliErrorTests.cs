using Jepa.Core;
using Jepa.RegexTask;

namespace Jepa.Tests.Cli;

/// <summary>Bad input gives one clear line on standard error and exit code 1; a wrong command line gives exit code 2; never a stack trace.</summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-err-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Tiny()
    {
        string p = Path.Combine(_root, "tiny.json");
        File.WriteAllText(p, CliRunner.TinyConfig);
        return p;
    }

    private static void OneLine(CliOutcome r, int code, string contains)
    {
        Assert.True(r.Code == code, r.ToString());
        Assert.Contains(contains, r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void MalformedJsonlNamesFileAndLineUnlessSkipped()
    {
        string data = Path.Combine(_root, "bad.jsonl");
        string good = RegexPairGenerator.ToChatJson(new RegexPair("lines with a vowel", "([AEIOUaeiou]).*"));
        File.WriteAllLines(data, [good, "{\"messages\": [", good, "{\"text\": 3, \"code\": \"x\"}"]);
        var r = CliRunner.Run("train", "--data", data, "--config", Tiny(), "--steps", "1", "--out", Path.Combine(_root, "run"));
        OneLine(r, 1, $"{data}:2: invalid JSON");
        Assert.False(Directory.Exists(Path.Combine(_root, "run", "checkpoints")));

        var skipped = CliRunner.Run("train", "--data", data, "--config", Tiny(), "--steps", "1", "--skip-bad", "--out", Path.Combine(_root, "run2"));
        Assert.True(skipped.Code == 0, skipped.ToString());
        Assert.Contains($"skipped {data}:2:", skipped.Err);
        Assert.Contains($"skipped {data}:4:", skipped.Err);
        Assert.Contains("skipped 2 malformed line(s), read 2 example(s)", skipped.Err);
    }

    [Fact]
    public void UnknownOptionListsTheValidOnes()
    {
        var r = CliRunner.Run("train", "--out", _root, "--stpes", "3");
        OneLine(r, 2, "unknown option '--stpes'");
        Assert.Contains("--steps", r.Err);
        Assert.Contains("--lambda", r.Err);
    }

    [Fact]
    public void MalformedValuesAndMissingOptionsAreUsageErrors()
    {
        OneLine(CliRunner.Run("train", "--out", _root, "--steps", "ten"), 2, "--steps must be an integer, got 'ten'");
        OneLine(CliRunner.Run("train", "--out", _root, "--lr", "fast"), 2, "--lr must be a number");
        OneLine(CliRunner.Run("train", "--out", _root, "--batch", "0"), 2, "--batch must be a positive integer");
        OneLine(CliRunner.Run("train", "--out", _root, "--steps"), 2, "--steps needs a value");
        OneLine(CliRunner.Run("train", "--out", _root, "--json=yes"), 2, "is a flag");
        OneLine(CliRunner.Run("train", "--steps", "3"), 2, "needs --out DIR");
        OneLine(CliRunner.Run("train", "--out", _root, "--steps", "3", "--epochs", "2"), 2, "either --steps or --epochs");
        OneLine(CliRunner.Run("eval", "--model", _root), 2, "needs --data FILE");
        OneLine(CliRunner.Run("eval", "--model", _root, "--data", Path.Combine(_root, "none.jsonl"), "--batch", "0"), 2, "--batch must be a positive integer");
        OneLine(CliRunner.Run("trian"), 2, "unknown command 'trian'");
        OneLine(CliRunner.Run("data"), 2, "needs a sub-command: data regex");
        OneLine(CliRunner.Run("devices", "extra"), 2, "unexpected argument 'extra'");
        OneLine(CliRunner.Run("train", "--out", _root, "--steps", "1", "--steps", "2"), 2, "--steps is given twice");
    }

    [Theory]
    [InlineData("\"d_model\": 100000, \"layers\": 4", "one tensor holds at most")]
    [InlineData("\"d_model\": 128, \"layers\": 1000000000", "beyond any model")]
    [InlineData("\"d_model\": 16384, \"layers\": 400", "for the weights alone")]
    public void ModelsTooLargeToHoldAreOneLineErrorsBeforeAllocating(string sizes, string reason)
    {
        string config = Path.Combine(_root, $"big{Guid.NewGuid():N}.json");
        File.WriteAllText(config, $"{{\"model\": {{{sizes}, \"heads\": 4, \"kv_heads\": 2, \"ffn\": 344, \"max_length\": 64}}}}");
        OneLine(CliRunner.Run("train", "--out", Path.Combine(_root, "big"), "--config", config, "--steps", "1"), 1, reason);
    }

    [Fact]
    public void AVocabularySizeOtherThanTheTokenizersAndAnUnknownTokenizerTypeAreErrors()
    {
        string config = Path.Combine(_root, "vocab.json");
        File.WriteAllText(config, "{\"model\": {\"vocab_size\": 5000, \"d_model\": 64, \"layers\": 2, \"heads\": 4, \"kv_heads\": 2, \"ffn\": 128, \"max_length\": 64}}");
        OneLine(CliRunner.Run("train", "--out", Path.Combine(_root, "v"), "--config", config, "--steps", "1"), 1, "vocab_size 5000 differs from the tokenizer's 271");

        string dir = Path.Combine(_root, "tok");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, Jepa.Training.Tokenization.TokenizerFiles.ByteFile), "{\"type\": \"wordpiece\", \"predictor_tokens\": 8}");
        var e = Assert.Throws<InvalidDataException>(() => Jepa.Training.Tokenization.TokenizerFiles.Read(dir));
        Assert.Contains("unknown tokenizer type \"wordpiece\"", e.Message);
        File.WriteAllText(Path.Combine(dir, Jepa.Training.Tokenization.TokenizerFiles.ByteFile), "{\"type\": \"byte\", \"predictor_tokens\": 100}");
        Assert.Contains("predictor_tokens must be between 0 and 64", Assert.Throws<InvalidDataException>(() => Jepa.Training.Tokenization.TokenizerFiles.Read(dir)).Message);
    }

    [Fact]
    public void ValuesThatWouldTrainWronglyAreErrorsBeforeTraining()
    {
        OneLine(CliRunner.Run("train", "--out", Path.Combine(_root, "c"), "--steps", "1", "--clip", "-1"), 1, "clip must be ≥ 0");
        OneLine(CliRunner.Run("train", "--out", Path.Combine(_root, "d"), "--steps", "1", "--data", _root), 1, "is a folder");
        var cut = CliRunner.Run("train", "--out", Path.Combine(_root, "m"), "--steps", "1", "--max-length", "8", "--labels", "answer", "--eval-count", "0");
        Assert.Equal(1, cut.Code);
        Assert.Contains("raise max-length", cut.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        Assert.False(Directory.Exists(Path.Combine(_root, "m", "model")));
    }

    [Fact]
    public void UnknownOrAbsentDevicesAreReported()
    {
        OneLine(CliRunner.Run("selftest", "--device", "tpu"), 2, "--device must be one of cpu, cuda, opencl, got 'tpu'");
        var present = Device.Enumerate().Select(d => d.Kind).ToHashSet();
        string? absent = present.Contains(DeviceKind.Cuda) ? present.Contains(DeviceKind.OpenCL) ? null : "opencl" : "cuda";
        if (absent is null) return; // every kind is present on this machine
        var r = CliRunner.Run("train", "--config", Tiny(), "--steps", "1", "--device", absent, "--out", Path.Combine(_root, "dev"));
        OneLine(r, 1, $"No {absent} device");
        Assert.Contains("Available:", r.Err);
    }

    [Fact]
    public void TensorCorePrecisionOffCudaIsAOneLineError()
    {
        OneLine(CliRunner.Run("train", "--config", Tiny(), "--steps", "1", "--device", "cpu", "--precision", "bf16", "--out", Path.Combine(_root, "tc")), 1,
            "bf16 matrix products run on tensor cores, which need a CUDA device");
        OneLine(CliRunner.Run("generate", "--model", _root, "--prompt", "x", "--precision", "fp16"), 2, "--precision must be one of fp32, tf32, bf16, got 'fp16'");
        Assert.False(Directory.Exists(Path.Combine(_root, "tc", "model")));
    }

    [Fact]
    public void MissingFilesAndBadConfigsAreBadInput()
    {
        OneLine(CliRunner.Run("train", "--data", Path.Combine(_root, "none.jsonl"), "--config", Tiny(), "--out", Path.Combine(_root, "r")), 1, "does not exist");
        string data = Path.Combine(_root, "pairs.jsonl");
        RegexPairGenerator.WriteJsonl(data, 2, seed: 1);
        OneLine(CliRunner.Run("eval", "--model", Path.Combine(_root, "nomodel"), "--data", data), 1, "Model folder");

        string bad = Path.Combine(_root, "bad-config.json");
        File.WriteAllText(bad, """{ "stepz": 3 }""");
        OneLine(CliRunner.Run("train", "--config", bad, "--out", Path.Combine(_root, "r")), 1, $"{bad}: unknown option 'stepz'");
        File.WriteAllText(bad, """{ "steps": "many" }""");
        OneLine(CliRunner.Run("train", "--config", bad, "--out", Path.Combine(_root, "r")), 1, $"{bad}: option 'steps' must be an integer");
        File.WriteAllText(bad, """{ "model": { "d_model": 30, "layers": 1, "heads": 4, "kv_heads": 1, "ffn": 8 } }""");
        OneLine(CliRunner.Run("train", "--config", bad, "--out", Path.Combine(_root, "r")), 1, "must be a multiple of");
        File.WriteAllText(bad, "{ not json");
        OneLine(CliRunner.Run("train", "--config", bad, "--out", Path.Combine(_root, "r")), 1, "invalid JSON");
    }
}
