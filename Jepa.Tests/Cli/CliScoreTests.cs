using System.Text.Json;
using Jepa.Tests.Evaluation;
using Microsoft.Data.Sqlite;

namespace Jepa.Tests.Cli;

/// <summary><c>jepa score</c>: saved predictions scored again without a model.</summary>
public sealed class CliScoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-score-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private static string Chat(string user, string assistant) => JsonSerializer.Serialize(new
    {
        messages = new[] { new { role = "system", content = "Answer." }, new { role = "user", content = user }, new { role = "assistant", content = assistant } },
    });

    private static string Prediction(string text, string reference, string prediction, string? error = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?> { ["text"] = text, ["reference"] = reference, ["prediction"] = prediction, ["correct"] = false, ["error"] = error });

    private string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_root, name);
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        return path;
    }

    private static void OneLine(CliOutcome r, int code, string contains)
    {
        Assert.True(r.Code == code, r.ToString());
        Assert.Contains(contains, r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private (string Data, string Predictions) Reviews()
    {
        string data = Write("data.jsonl", Chat("great film", "Very Good"), "", Chat("dull", "Bad"), Chat("fine", "Good"));
        string pred = Write("pred.jsonl",
            Prediction("great film", "Very Good", " Very Good\n"),
            Prediction("dull", "Bad", "Bad, really"),
            Prediction("fine", "Good", "", "the prompt has 99 tokens; the model's maximum length is 8"));
        return (data, pred);
    }

    [Fact]
    public void ScoresSavedPredictionsWithAnyMetric()
    {
        var (data, pred) = Reviews();
        var exact = CliRunner.Run("score", "--data", data, "--predictions", pred, "--metric", "exact");
        Assert.True(exact.Code == 0, exact.ToString());
        Assert.Equal("exact match 33.3 % (1/3)", exact.Out.Trim());
        var starts = CliRunner.Run("score", "--predictions", pred, "--metric", "startswith", "--json");
        Assert.True(starts.Code == 0, starts.ToString());
        using var doc = JsonDocument.Parse(starts.Out);
        Assert.Equal("startswith", doc.RootElement.GetProperty("metric").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("correct").GetInt32()); // the example without an answer stays wrong
        Assert.Equal(3, doc.RootElement.GetProperty("count").GetInt32());
    }

    [Fact]
    public void PredictionsThatDoNotLineUpWithTheDataAreNamed()
    {
        var (data, _) = Reviews();
        string swapped = Write("swapped.jsonl", Prediction("great film", "Very Good", "x"), Prediction("fine", "Good", "Good"));
        OneLine(CliRunner.Run("score", "--data", data, "--predictions", swapped), 1, "swapped.jsonl:2: its text differs from example 2");
        string wrongReference = Write("ref.jsonl", Prediction("great film", "Good", "x"));
        OneLine(CliRunner.Run("score", "--data", data, "--predictions", wrongReference), 1, "ref.jsonl:1: its reference differs from example 1");
        string tooMany = Write("many.jsonl", Enumerable.Repeat(Prediction("great film", "Very Good", "x"), 4).ToArray());
        OneLine(CliRunner.Run("score", "--data", data, "--predictions", tooMany), 1, "has 4 predictions but");
        string fewer = Write("fewer.jsonl", Prediction("great film", "Very Good", "Very Good"));
        var partial = CliRunner.Run("score", "--data", data, "--predictions", fewer);
        Assert.True(partial.Code == 0, partial.ToString());
        Assert.Equal("exact match 100.0 % (1/1)", partial.Out.Trim());
        Assert.Contains("scoring the first 1", partial.Err);
    }

    [Fact]
    public void BadInputIsOneLine()
    {
        var (data, _) = Reviews();
        OneLine(CliRunner.Run("score", "--predictions", Write("bad.jsonl", Prediction("a", "b", "c"), "{not json")), 1, "bad.jsonl:2: invalid JSON");
        OneLine(CliRunner.Run("score", "--predictions", Write("nopred.jsonl", "{\"text\": \"a\"}")), 1, "nopred.jsonl:1: no \"prediction\"");
        OneLine(CliRunner.Run("score", "--predictions", Write("notext.jsonl", "{\"prediction\": \"a\"}")), 1, "notext.jsonl:1: no \"text\"");
        OneLine(CliRunner.Run("score", "--predictions", Path.Combine(_root, "none.jsonl"), "--data", data), 1, "does not exist");
        OneLine(CliRunner.Run("score", "--data", data), 2, "--predictions");
        OneLine(CliRunner.Run("score", "--predictions", Write("p.jsonl", Prediction("a", "b", "c")), "--metric", "bleu"), 2, "bleu");
        OneLine(CliRunner.Run("score", "--predictions", Write("q.jsonl", Prediction("a", "b", "c")), "--metric", "spider"), 2, "needs --spider-db");
    }

    [Fact]
    public void SpiderPrintsThePapersFigureAndExecutionAccuracy()
    {
        string db = Path.Combine(_root, "db");
        string file = SpiderTestDatabases.Create(db, "pets", "CREATE TABLE pet (name TEXT, age INTEGER)", "INSERT INTO pet VALUES ('Rex', 3), ('Tom', 5)");
        byte[] before = File.ReadAllBytes(file);
        const string Q = "For db_id:[pets]\n\nName the pets.";
        string pred = Write("spider.jsonl",
            Prediction(Q, "SELECT name FROM pet", "SELECT name FROM pet"),                   // right both ways
            Prediction(Q, "SELECT name FROM pet", "SELECT name FROM pet ORDER BY age DESC"), // same rows, printed in another order
            Prediction(Q, "SELECT name FROM pet WHERE age > 9", "DROP TABLE pet"),           // a write: wrong, and refused
            Prediction(Q, "SELECT name FROM pet", "SELECT nme FROM pet"));                   // an error: wrong
        var r = CliRunner.Run("score", "--predictions", pred, "--metric", "spider", "--spider-db", db);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal(["Spider printed result 25.0 % (1/4)", "Spider execution accuracy 50.0 % (2/4)"], r.Out.Trim().Split('\n'));
        Assert.Equal(before, File.ReadAllBytes(file));
        var json = CliRunner.Run("score", "--predictions", pred, "--metric", "spider-exec", "--spider-db", db, "--json");
        using var doc = JsonDocument.Parse(json.Out);
        Assert.Equal(0.5, doc.RootElement.GetProperty("accuracy").GetDouble());
        Assert.Equal("spider", doc.RootElement.GetProperty("also").GetProperty("metric").GetString());
        string missing = Write("missing.jsonl", Prediction("For db_id:[farm]\n\nq", "SELECT 1", "SELECT 1"));
        OneLine(CliRunner.Run("score", "--predictions", missing, "--metric", "spider", "--spider-db", db), 1, "missing.jsonl:1: the database");
        OneLine(CliRunner.Run("score", "--predictions", pred, "--metric", "spider", "--spider-db", Path.Combine(_root, "nodb")), 1, "does not exist");
    }

    [Fact]
    public void EvalChecksTheSpiderSetUpBeforeOpeningTheModel()
    {
        string data = Write("sql.jsonl", Chat("How many pets?", "SELECT count(*) FROM pet"));
        string model = Path.Combine(_root, "nomodel");
        OneLine(CliRunner.Run("eval", "--model", model, "--data", data, "--metric", "spider"), 2, "needs --spider-db");
        OneLine(CliRunner.Run("eval", "--model", model, "--data", data, "--metric", "spider-exec", "--spider-db", _root), 1,
            "sql.jsonl: example 1: the user message names no database");
    }

    [Fact]
    public void TrainTakesOnlyTheMetricsWithoutDatabasesAndHelpListsEveryRuleAndThePapersTokenLimit()
    {
        OneLine(CliRunner.Run("train", "--metric", "spider", "--out", Path.Combine(_root, "run")), 2, "spider");
        var help = CliRunner.Run("eval", "--help");
        foreach (string metric in Jepa.Training.Evaluation.AnswerMetrics.Names) Assert.Contains($"  {metric} ", help.Out);
        Assert.Contains("--max-new-tokens N", help.Out);
        Assert.Contains("the paper's 128) (default: 128)", help.Out);
        Assert.Contains("the paper's 128) (default: 128)", CliRunner.Run("train", "--help").Out);
    }
}
