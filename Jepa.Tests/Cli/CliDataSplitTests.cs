using Jepa.RegexTask;

namespace Jepa.Tests.Cli;

/// <summary><c>jepa data split</c>: a seeded, deterministic, disjoint split that copies lines verbatim; errors are one line.</summary>
public sealed class CliDataSplitTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-split-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string P(string name) => Path.Combine(_root, name);

    private static CliOutcome Split(string data, int holdout, int seed, string train, string held, params string[] more) =>
        CliRunner.Run(["data", "split", "--data", data, "--holdout", holdout.ToString(), "--seed", seed.ToString(), "--train-out", train, "--holdout-out", held, .. more]);

    [Fact]
    public void SplitIsDeterministicDisjointAndCoversTheInput()
    {
        string data = P("all.jsonl");
        RegexPairGenerator.WriteJsonl(data, 25, seed: 4);
        var input = File.ReadAllLines(data);
        File.AppendAllText(data, "\n   \n"); // blank lines are not examples

        var r = Split(data, 7, 3, P("a.jsonl"), P("b.jsonl"));
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("18 to", r.Out);
        Assert.Equal(0, Split(data, 7, 3, P("c.jsonl"), P("d.jsonl")).Code);
        Assert.Equal(File.ReadAllBytes(P("a.jsonl")), File.ReadAllBytes(P("c.jsonl")));
        Assert.Equal(File.ReadAllBytes(P("b.jsonl")), File.ReadAllBytes(P("d.jsonl")));

        var train = File.ReadAllLines(P("a.jsonl"));
        var held = File.ReadAllLines(P("b.jsonl"));
        Assert.Equal(18, train.Length);
        Assert.Equal(7, held.Length);
        Assert.Equal(input.Order(StringComparer.Ordinal), train.Concat(held).Order(StringComparer.Ordinal)); // verbatim, nothing lost or doubled
        Assert.Empty(train.Intersect(held));
        Assert.Equal(input.Where(l => train.Contains(l)), train); // file order kept
        Assert.Equal(input.Where(l => held.Contains(l)), held);

        Assert.Equal(0, Split(data, 7, 4, P("e.jsonl"), P("f.jsonl")).Code);
        Assert.NotEqual(held, File.ReadAllLines(P("f.jsonl"))); // another seed, another split
    }

    [Fact]
    public void BadInputIsOneLine()
    {
        string data = P("all.jsonl");
        RegexPairGenerator.WriteJsonl(data, 6, seed: 4);
        Assert.Equal(0, Split(data, 2, 1, P("a.jsonl"), P("b.jsonl")).Code);

        OneLine(Split(data, 2, 1, P("a.jsonl"), P("b2.jsonl")), 1, "a.jsonl' already exists; give --force");
        Assert.Equal(0, Split(data, 3, 1, P("a.jsonl"), P("b.jsonl"), "--force").Code);
        Assert.Equal(3, File.ReadAllLines(P("b.jsonl")).Length);
        OneLine(Split(data, 6, 1, P("x.jsonl"), P("y.jsonl")), 1, $"{data}: --holdout 6 leaves no training examples (the file has 6)");
        OneLine(Split(P("none.jsonl"), 1, 1, P("x.jsonl"), P("y.jsonl")), 1, "does not exist");
        OneLine(Split(data, 0, 1, P("x.jsonl"), P("y.jsonl")), 2, "--holdout must be a positive integer");
        OneLine(Split(data, 1, 1, P("x.jsonl"), P("x.jsonl")), 2, "must be different files");
        OneLine(CliRunner.Run("data", "split", "--data", data, "--holdout", "1", "--train-out", P("x.jsonl")), 2, "needs --holdout-out");

        string bad = P("bad.jsonl");
        File.WriteAllLines(bad, [.. File.ReadAllLines(data), "{\"text\": 1}"]);
        OneLine(Split(bad, 1, 1, P("x.jsonl"), P("y.jsonl")), 1, $"{bad}:7:");
        Assert.False(File.Exists(P("x.jsonl")));
        var skipped = Split(bad, 1, 1, P("x.jsonl"), P("y.jsonl"), "--skip-bad");
        Assert.True(skipped.Code == 0, skipped.ToString());
        Assert.Equal(5, File.ReadAllLines(P("x.jsonl")).Length);
    }

    private static void OneLine(CliOutcome r, int code, string contains)
    {
        Assert.True(r.Code == code, r.ToString());
        Assert.Contains(contains, r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
