using System.Text.Json;
using Jepa.Training.Evaluation;
using Microsoft.Data.Sqlite;

namespace Jepa.Tests.Evaluation;

/// <summary>
/// The metrics against the verdicts of the paper's evaluate.py on hand-made pairs (Fixtures/paper-metrics/cross-check.json):
/// each case holds the paper's verdict, worked out from its code, and ours where it departs on purpose.
/// </summary>
public sealed class PaperRuleCrossCheckTests : IDisposable
{
    private static readonly string FixturePath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "paper-metrics", "cross-check.json");

    private readonly string _databases = Path.Combine(Path.GetTempPath(), "jepa-crosscheck-" + Guid.NewGuid().ToString("N"));

    public PaperRuleCrossCheckTests()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        foreach (var db in doc.RootElement.GetProperty("spider_databases").EnumerateObject())
            SpiderTestDatabases.Create(_databases, db.Name, db.Value.EnumerateArray().Select(s => s.GetString()!).ToArray());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_databases, recursive: true);
    }

    public static TheoryData<int, string, string> Cases()
    {
        var data = new TheoryData<int, string, string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        int i = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            data.Add(i++, c.GetProperty("metric").GetString()!, JsonSerializer.Serialize(c.GetProperty("generation").GetString()));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void VerdictMatchesThePapersCode(int index, string metric, string generation)
    {
        _ = generation; // in the test's name only
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        var c = doc.RootElement.GetProperty("cases")[index];
        bool expected = c.TryGetProperty("ours", out var ours) ? ours.GetBoolean() : c.GetProperty("paper").GetBoolean();
        var m = AnswerMetrics.Parse(metric);
        var scorer = new AnswerScorer(m, m.NeedsDatabase() ? new SpiderMatch(_databases) : null);
        string prompt = c.TryGetProperty("prompt", out var p) ? p.GetString()! : "";
        Assert.Equal(expected, scorer.IsCorrect(prompt, c.GetProperty("generation").GetString()!, c.GetProperty("reference").GetString()!));
    }

    [Fact]
    public void EveryPaperMetricIsCrossChecked()
    {
        var counts = Cases().Select(row => (string)row[1]).CountBy(m => m).ToDictionary();
        foreach (string metric in new[] { "exact", "startswith", "gsm8k-paper", "nq", "spider" })
            Assert.InRange(counts.GetValueOrDefault(metric), 10, 20);
    }
}
