using System.Diagnostics;
using Jepa.Training.Evaluation;
using Microsoft.Data.Sqlite;

namespace Jepa.Tests.Evaluation;

public sealed class SpiderMatchTests : IDisposable
{
    private const string Prompt = "For db_id:[zoo]\n\nA question.";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "jepa-spider-" + Guid.NewGuid().ToString("N"));
    private readonly string _zoo;

    public SpiderMatchTests()
    {
        _zoo = SpiderTestDatabases.Create(_dir, "zoo",
            "CREATE TABLE animal (id INTEGER PRIMARY KEY, name TEXT, kind TEXT, weight REAL, keeper INTEGER)",
            "INSERT INTO animal VALUES (1, 'Zed', 'zebra', 300.0, 7), (2, 'Ann', 'ant', 0.001, NULL), (3, 'Bob', 'bear', 250.5, 7), (4, 'Bea', 'bear', 250.5, 8)");
        SpiderTestDatabases.Create(_dir, "empty", "CREATE TABLE t (x INTEGER)");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private SpiderVerdict Compare(string generated, string gold, SqliteQueryLimits? limits = null) =>
        new SpiderMatch(_dir, limits).Compare(Prompt, generated, gold);

    [Fact]
    public void CorrectAndIncorrectQueries()
    {
        var right = Compare("SELECT name FROM animal WHERE kind = 'bear'", "SELECT name FROM animal WHERE weight = 250.5");
        Assert.True(right.SamePrinted);
        Assert.True(right.SameResult);
        Assert.Null(right.PredictionError);
        var wrong = Compare("SELECT name FROM animal WHERE kind = 'ant'", "SELECT name FROM animal WHERE kind = 'bear'");
        Assert.False(wrong.SamePrinted);
        Assert.False(wrong.SameResult);
    }

    [Fact]
    public void OrderCountsForExecutionAccuracyOnlyWhenTheGoldQueryOrders()
    {
        var unordered = Compare("SELECT name FROM animal ORDER BY name DESC", "SELECT name FROM animal");
        Assert.False(unordered.SamePrinted); // the printed text differs
        Assert.True(unordered.SameResult);   // the same multiset, and the gold query does not order
        var ordered = Compare("SELECT name FROM animal", "SELECT name FROM animal ORDER BY name");
        Assert.False(ordered.SameResult);
        Assert.True(Compare("SELECT name FROM animal ORDER BY name", "SELECT name FROM animal order\n  by name ASC").SameResult);
        Assert.True(SpiderMatch.IsOrdered("select a from t Order  By a"));
        Assert.False(SpiderMatch.IsOrdered("SELECT border_by FROM t"));
    }

    [Fact]
    public void ResultsCompareAsMultisets()
    {
        Assert.False(Compare("SELECT DISTINCT kind FROM animal", "SELECT kind FROM animal").SameResult); // 'bear' twice
        Assert.True(Compare("SELECT kind FROM animal ORDER BY kind", "SELECT kind FROM animal").SameResult);
        Assert.False(Compare("SELECT kind FROM animal UNION ALL SELECT 'bear'", "SELECT kind FROM animal").SameResult);
    }

    [Fact]
    public void ValuesCompareByValueAndPrintAsTheShellDoes()
    {
        var numbers = Compare("SELECT 300", "SELECT weight FROM animal WHERE id = 1");
        Assert.True(numbers.SameResult);   // 300 equals 300.0
        Assert.False(numbers.SamePrinted); // '300' against '300.0'
        Assert.False(Compare("SELECT '300'", "SELECT 300").SameResult); // text is not a number
        Assert.True(Compare("SELECT NULL", "SELECT keeper FROM animal WHERE id = 2").SameResult);
        var file = SqliteQuery.Run(_zoo, "SELECT id, name, keeper, weight FROM animal WHERE id <= 2 ORDER BY id");
        Assert.Equal("1|Zed|7|300.0\n2|Ann||0.001\n", file.Printed());
    }

    [Fact]
    public void AnErroringQueryIsWrong()
    {
        var v = Compare("SELECT nme FROM animal", "SELECT name FROM animal WHERE id = 99");
        Assert.False(v.SamePrinted); // the paper's code would count it right: both print nothing
        Assert.False(v.SameResult);
        Assert.Contains("nme", v.PredictionError);
        Assert.Null(v.ReferenceError);
        Assert.False(Compare("", "SELECT 1").SamePrinted);
        Assert.NotNull(Compare("SELECT 1", "SELEC 1").ReferenceError);
    }

    [Theory]
    [InlineData("DROP TABLE animal")]
    [InlineData("UPDATE animal SET weight = 0")]
    [InlineData("DELETE FROM animal")]
    [InlineData("INSERT INTO animal (name) VALUES ('x')")]
    [InlineData("CREATE TABLE t2 (x)")]
    [InlineData("PRAGMA user_version = 5")]
    [InlineData("SELECT 1; DROP TABLE animal")]
    public void AWriteIsWrongAndLeavesTheDatabaseUnchanged(string write)
    {
        byte[] before = File.ReadAllBytes(_zoo);
        var v = Compare(write, "SELECT name FROM animal WHERE id = 99");
        Assert.False(v.SamePrinted);
        Assert.False(v.SameResult);
        Assert.NotNull(v.PredictionError);
        Assert.Equal(before, File.ReadAllBytes(_zoo));
        Assert.Equal("4\n", SqliteQuery.Run(_zoo, "SELECT count(*) FROM animal").Printed());
    }

    [Fact]
    public void AttachingAnotherDatabaseIsRefused()
    {
        string other = Path.Combine(_dir, "other.sqlite");
        var r = SqliteQuery.Run(_zoo, $"ATTACH DATABASE '{other}' AS o; CREATE TABLE o.t (x)");
        Assert.False(r.Succeeded);
        Assert.False(File.Exists(other));
    }

    [Fact]
    public void AHangingQueryIsStoppedByTheTimeLimit()
    {
        var limits = new SqliteQueryLimits(TimeSpan.FromMilliseconds(300), 100_000);
        var clock = Stopwatch.StartNew();
        var v = Compare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", "SELECT 1", limits);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.2, 5);
        Assert.False(v.SamePrinted);
        Assert.Contains("time limit", v.PredictionError);
    }

    [Fact]
    public void AHugeResultIsStoppedByTheRowLimit()
    {
        var limits = new SqliteQueryLimits(TimeSpan.FromSeconds(30), 1000);
        const string Endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c";
        var r = SqliteQuery.Run(_zoo, Endless, limits);
        Assert.Equal("more than 1000 rows", r.Error);
        Assert.Empty(r.Rows);
        Assert.Equal(1000, SqliteQuery.Run(_zoo, Endless + " LIMIT 1000", limits).Rows.Count);
    }

    [Fact]
    public void TheDatabaseComesFromThePrompt()
    {
        var spider = new SpiderMatch(_dir);
        Assert.Equal("zoo", SpiderMatch.DatabaseId("For db_id:[zoo]\n\nHow many?"));
        Assert.Equal("a] [b", SpiderMatch.DatabaseId("For db_id:[a] [b]\nx]")); // greedy to the line's last ']', as the paper's pattern
        Assert.Null(SpiderMatch.DatabaseId("db_id: zoo"));
        Assert.Null(spider.Problem(Prompt));
        Assert.Contains("names no database", spider.Problem("How many animals?"));
        Assert.Contains("does not exist", spider.Problem("For db_id:[farm]"));
        Assert.Contains("not a plain folder name", spider.Problem("For db_id:[../zoo]"));
        Assert.Throws<InvalidDataException>(() => spider.Compare("For db_id:[farm]", "SELECT 1", "SELECT 1"));
        Assert.Throws<DirectoryNotFoundException>(() => new SpiderMatch(Path.Combine(_dir, "missing")));
        Assert.True(new SpiderMatch(_dir).Compare("For db_id:[empty]", "SELECT x FROM t", "SELECT x FROM t WHERE 0").SamePrinted);
    }
}
