using System.Text.Json;

namespace Jepa.Tests.Cli;

/// <summary><c>jepa bench</c>: help, a tiny run in text and JSON, and the usage errors of its options.</summary>
public sealed class CliBenchTests
{
    private static readonly string[] Tiny = ["bench", "--device", "cpu", "--config", "s", "--batch", "1", "--seq", "16", "--steps", "1", "--warmup", "0", "--matmul", "64"];

    [Fact]
    public void HelpListsTheOptions()
    {
        var r = CliRunner.Run("bench", "--help");
        Assert.True(r.Code == 0, r.ToString());
        foreach (string o in (string[])["--device", "--config", "--batch", "--seq", "--kinds", "--steps", "--warmup", "--matmul", "--json"])
            Assert.Contains(o, r.Out);
    }

    [Fact]
    public void TinyRunPrintsOneJsonObjectWithEveryKind()
    {
        var r = CliRunner.Run([.. Tiny, "--json"]);
        Assert.True(r.Code == 0, r.ToString());
        string line = Assert.Single(r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal("cpu", root.GetProperty("device_kind").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("device").GetString()));
        Assert.Equal(1, root.GetProperty("batch").GetInt32());
        Assert.Equal(16, root.GetProperty("seq").GetInt32());
        var kinds = root.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["lm", "jepa-separate", "jepa-single"], kinds.Select(k => k.GetProperty("kind").GetString()));
        foreach (var k in kinds)
        {
            Assert.True(k.GetProperty("tokens_per_second").GetDouble() > 0, line);
            Assert.True(k.GetProperty("median_ms").GetDouble() > 0, line);
            Assert.True(k.GetProperty("peak_bytes").GetInt64() > 0, line);
            Assert.True(k.GetProperty("steady_state_allocations").GetInt64() >= 0, line);
        }
        var products = root.GetProperty("matmul").EnumerateArray().ToList();
        Assert.Equal(["NN", "NT"], products.Select(p => p.GetProperty("form").GetString()));
        Assert.All(products, p => Assert.True(p.GetProperty("gflops").GetDouble() > 0 && p.GetProperty("size").GetInt32() == 64, line));
    }

    [Fact]
    public void TextRunNamesTheDeviceAndPrintsTheChosenRows()
    {
        var r = CliRunner.Run([.. Tiny[..^2], "--kinds", "jepa-single", "--matmul", "0"]);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("device: ", r.Out);
        Assert.Contains("(cpu:0", r.Out);
        Assert.Contains("tokens/s", r.Out);
        Assert.Contains("jepa-single    1×16", r.Out);
        Assert.DoesNotContain("jepa-separate", r.Out);
        Assert.DoesNotContain("GFLOP/s", r.Out);
    }

    [Theory]
    [InlineData("--config", "xl", "--config must be one of s, m, got 'xl'")]
    [InlineData("--batch", "0", "--batch must be a positive integer")]
    [InlineData("--seq", "15", "sequence length must be positive and even")]
    [InlineData("--seq", "256", "exceeds the model's maximum length 128")]
    [InlineData("--steps", "many", "--steps must be an integer")]
    [InlineData("--warmup", "-1", "--warmup must be an integer ≥ 0")]
    [InlineData("--matmul", "-5", "--matmul must be an integer ≥ 0")]
    [InlineData("--kinds", "lm,foo", "Unknown step kind 'foo'. Valid: lm, jepa-separate, jepa-single.")]
    [InlineData("--kinds", ",", "list of step kinds is empty")]
    [InlineData("--device", "tpu", "--device must be one of cpu, cuda, opencl, got 'tpu'")]
    public void BadValuesAreUsageErrors(string option, string value, string message)
    {
        var r = CliRunner.Run("bench", option, value);
        Assert.True(r.Code == 2, r.ToString());
        Assert.Contains(message, r.Err);
        Assert.StartsWith("jepa bench: ", r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(r.Out);
    }
}
