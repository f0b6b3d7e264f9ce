using Jepa.Core.Safetensors;
using Jepa.Tests.Model;
using Jepa.Tests.Support;
using Jepa.Training.Autograd;
using Jepa.Training.Model;

namespace Jepa.Tests.Cli;

/// <summary><c>jepa forward</c>: the logits and hidden states it writes are the model's, and bad input is one line.</summary>
public sealed class CliForwardTests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-forward-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Model()
    {
        string dir = Path.Combine(_root, "qwen3");
        TinyQwen3.Write(dir, TinyQwen3.Weights());
        return dir;
    }

    [Fact]
    public void WrittenLogitsAndHiddenStatesAreTheModelsForward()
    {
        string dir = Model(), outPath = Path.Combine(_root, "out", "forward.safetensors");
        int[] ids = [4, 8, 15, 16, 23, 42];
        var r = CliRunner.Run("forward", "--model", dir, "--ids", string.Join(",", ids), "--out", outPath, "--device", "cpu");
        Assert.True(r.Code == 0, r.ToString());
        using var model = HfCheckpoint.Load(dir, f.Ops, trainable: false);
        using var batch = new SequenceBatch(f.Device, 1, ids.Length, ids, model.Config.VocabSize);
        using var tape = new Tape(f.Ops, recordGradients: false);
        var hidden = model.Forward(tape, batch);
        var logits = model.Logits(tape, hidden);
        using var written = SafetensorsReader.Open(outPath);
        Assert.Equal([ids.Length, TinyQwen3.Vocab], written.Info("logits").Shape.ToArray());
        Assert.Equal([ids.Length, TinyQwen3.Hidden], written.Info("hidden").Shape.ToArray());
        Reference.AssertBitwiseEqual(written.ReadFloat32("logits"), logits.Value.ToArray(), "written logits");
        Reference.AssertBitwiseEqual(written.ReadFloat32("hidden"), hidden.Value.ToArray(), "written hidden states");

        string idsFile = Path.Combine(_root, "ids.txt");
        File.WriteAllText(idsFile, "4 8\n15, 16\n23 42\n");
        string second = Path.Combine(_root, "second.safetensors");
        Assert.Equal(0, CliRunner.Run("forward", "--model", dir, "--ids-file", idsFile, "--out", second, "--device", "cpu").Code);
        using var again = SafetensorsReader.Open(second);
        Reference.AssertBitwiseEqual(again.ReadFloat32("logits"), logits.Value.ToArray(), "logits of --ids-file");
    }

    [Theory]
    [InlineData("1,x,3", "'x'")]
    [InlineData("1,-2", "'-2'")]
    [InlineData("1,50", "token id 50")]
    [InlineData("many", "maximum length 64")]
    [InlineData("missing", "does not exist")]
    public void BadInputIsOneLine(string ids, string expected)
    {
        string dir = ids == "missing" ? Path.Combine(_root, "nowhere") : Model();
        if (ids == "many") ids = string.Join(",", Enumerable.Repeat("1", 65));
        if (ids == "missing") ids = "1,2";
        string outPath = Path.Combine(_root, "bad.safetensors");
        var r = CliRunner.Run("forward", "--model", dir, "--ids", ids, "--out", outPath, "--device", "cpu");
        Assert.True(r.Code == 1, r.ToString());
        Assert.Contains(expected, r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", r.Err);
        Assert.False(File.Exists(outPath));
    }
}
