using Jepa.Cli.Options;

namespace Jepa.Tests.Cli;

public sealed class OptionTableTests
{
    private static readonly OptionTable Table = new("demo", "[options]", "A demo command.",
    [
        new("steps", "N", "steps", "10"),
        new("lr", "X", "rate"),
        new("seed", "S", "seed"),
        new("offset", "-n", "offset"),
        OptionSpec.Flag("fast", "go fast"),
        OptionSpec.Choice("mode", "mode", "a", "a", "b"),
    ]);

    [Fact]
    public void ParsesValuesFlagsAndTypedGetters()
    {
        var p = Table.Parse(["--steps", "12", "--lr=0.5", "--offset", "-2", "--fast", "--mode", "B", "--seed", "18446744073709551615"]);
        Assert.Equal(12, p.Int("steps"));
        Assert.Equal(0.5, p.Double("lr"));
        Assert.Equal(-2, p.Int("offset"));
        Assert.True(p.Flag("fast"));
        Assert.Equal("b", p.Choice("mode"));
        Assert.Equal(ulong.MaxValue, p.ULong("seed"));
        Assert.Null(Table.Parse([]).Int("steps"));
        Assert.Equal(7, Table.Parse([]).Int("steps", 7));
        Assert.Contains("--steps is given twice", Assert.Throws<UsageException>(() => Table.Parse(["--steps", "1", "--steps=3"])).Message);
        Assert.Contains("--fast is given twice", Assert.Throws<UsageException>(() => Table.Parse(["--fast", "--fast"])).Message);
        Assert.True(Table.Parse(["-h"]).HelpRequested);
    }

    [Fact]
    public void RejectsUnknownOptionsMissingValuesAndBadNumbers()
    {
        var e = Assert.Throws<UsageException>(() => Table.Parse(["--step", "1"]));
        Assert.Equal("unknown option '--step'. Valid options: --steps, --lr, --seed, --offset, --fast, --mode. Run 'jepa demo --help' for details.", e.Message);
        Assert.Contains("needs a value (N)", Assert.Throws<UsageException>(() => Table.Parse(["--steps"])).Message);
        Assert.Contains("is a flag", Assert.Throws<UsageException>(() => Table.Parse(["--fast=1"])).Message);
        Assert.Contains("takes only options", Assert.Throws<UsageException>(() => Table.Parse(["stray"])).Message);
        Assert.Contains("options are spelled --name", Assert.Throws<UsageException>(() => Table.Parse(["-s"])).Message);
        Assert.Equal("--steps must be an integer, got '1.5'.", Assert.Throws<UsageException>(() => Table.Parse(["--steps", "1.5"]).Int("steps")).Message);
        Assert.Contains("a number", Assert.Throws<UsageException>(() => Table.Parse(["--lr", "NaN"]).Double("lr")).Message);
        Assert.Contains("one of a, b", Assert.Throws<UsageException>(() => Table.Parse(["--mode", "c"]).Choice("mode")).Message);
        Assert.Contains("a positive integer", Assert.Throws<UsageException>(() => Table.Parse(["--steps", "0"]).PositiveInt("steps")).Message);
    }

    [Fact]
    public void SettingsFileValuesFillGapsAndNameTheFileInErrors()
    {
        var p = Table.Parse(["--steps", "5"]).WithFallback(new Dictionary<string, string> { ["steps"] = "9", ["lr"] = "0.1", ["fast"] = "true" }, "cfg.json");
        Assert.Equal(5, p.Int("steps"));       // the command line wins
        Assert.Equal(0.1, p.Double("lr"));
        Assert.True(p.Flag("fast"));
        Assert.False(p.GivenOnCommandLine("lr"));
        Assert.True(p.GivenOnCommandLine("steps"));
        var bad = Table.Parse([]).WithFallback(new Dictionary<string, string> { ["lr"] = "x" }, "cfg.json");
        Assert.Equal("cfg.json: option 'lr' must be a number, got 'x'.", Assert.Throws<InvalidDataException>(() => bad.Double("lr")).Message);
        Assert.Contains("cfg.json: unknown option 'speed'",
            Assert.Throws<InvalidDataException>(() => Table.Parse([]).WithFallback(new Dictionary<string, string> { ["speed"] = "1" }, "cfg.json")).Message);
    }

    [Fact]
    public void HelpListsEveryOptionWithDefaultsAndChoices()
    {
        string help = Table.Help();
        Assert.StartsWith("usage: jepa demo [options]", help);
        Assert.Contains("--steps N", help);
        Assert.Contains("(default: 10)", help);
        Assert.Contains("--mode a|b", help);
        Assert.Contains("--fast", help);
        Assert.Contains("-h, --help", help);
    }

    [Fact]
    public void ErrorMessagesPrintOnOneLine()
    {
        var range = new ArgumentOutOfRangeException("predictors", 9, "predictors must be at most 8.");
        Assert.Equal("predictors must be at most 8.", Jepa.Cli.CliApp.OneLine(range));
        Assert.Equal("bad size.", Jepa.Cli.CliApp.OneLine(new ArgumentException("bad size.", "size")));
        Assert.Equal("first; second", Jepa.Cli.CliApp.OneLine(new InvalidDataException("first\n  second\n")));
    }
}
