using System.Text.RegularExpressions;

namespace Jepa.Training.Evaluation;

/// <summary>
/// Spider text-to-SQL scoring on a real SQLite engine (<see cref="SqliteQuery"/>: read-only, writes refused, time and row
/// limits). The database is named in the user message as <c>For db_id:[NAME]</c> (the first such line; as the paper's
/// greedy pattern, NAME runs to the last <c>]</c> of that line) and lives at <c>DIR/NAME/NAME.sqlite</c>. The stripped
/// generated query and the gold query both run there, and two verdicts come out:
/// <list type="bullet">
/// <item><c>spider</c>, the paper's: the printed results are identical, rendered as the <c>sqlite3</c> shell's default
/// list mode prints them (<see cref="SqliteQueryResult.Printed"/>);</item>
/// <item><c>spider-exec</c>, the field's execution accuracy: the result rows are equal as multisets, in order only when
/// the gold query has ORDER BY (<see cref="SqliteQueryResult.SameRows"/>; columns compare in order, with no search over
/// column permutations).</item>
/// </list>
/// Departures from the paper, which runs the <c>sqlite3</c> shell: a query that fails (an SQLite error, a write, the
/// time or row limit) makes the example wrong under both verdicts, where the paper compares the empty output of a
/// failed query and so counts a failing generated query correct when the gold query prints nothing; and nothing a
/// generated query does can change the database, where the shell would run its writes.
/// </summary>
public sealed partial class SpiderMatch
{
    /// <summary>Prepares to score against the databases under <paramref name="databases"/> (<c>DIR/NAME/NAME.sqlite</c>).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public SpiderMatch(string databases, SqliteQueryLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(databases);
        if (!Directory.Exists(databases)) throw new DirectoryNotFoundException($"Spider database folder '{databases}' does not exist.");
        Databases = databases;
        Limits = limits ?? SqliteQueryLimits.Default;
    }

    /// <summary>The folder holding <c>NAME/NAME.sqlite</c> for each database.</summary>
    public string Databases { get; }

    /// <summary>The limits each query runs under.</summary>
    public SqliteQueryLimits Limits { get; }

    [GeneratedRegex(@"For db_id:\[(.+)\]", RegexOptions.CultureInvariant)]
    private static partial Regex DatabasePattern();

    [GeneratedRegex(@"\border\s+by\b", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex OrderByPattern();

    /// <summary>The database name of <c>For db_id:[NAME]</c> in <paramref name="prompt"/>, or null when there is none.</summary>
    public static string? DatabaseId(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var m = DatabasePattern().Match(prompt);
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>True when <paramref name="sql"/> has an ORDER BY clause (then result order counts for <c>spider-exec</c>).</summary>
    public static bool IsOrdered(string sql) => OrderByPattern().IsMatch(sql);

    /// <summary>Why <paramref name="prompt"/> cannot be scored (no database named, a name that is not a plain folder name,
    /// a database file that does not exist), or null when it can.</summary>
    public string? Problem(string prompt)
    {
        string? id = DatabaseId(prompt);
        if (id is null) return "the user message names no database ('For db_id:[NAME]')";
        if (id is "." or ".." || id.IndexOfAny(['/', '\\', '\0']) >= 0) return $"the database name '{id}' is not a plain folder name";
        string file = DatabaseFile(id);
        return File.Exists(file) ? null : $"the database '{file}' of db_id '{id}' does not exist";
    }

    /// <summary>The file of the database named <paramref name="id"/>: <c>DIR/NAME/NAME.sqlite</c>.</summary>
    public string DatabaseFile(string id) => Path.Combine(Databases, id, id + ".sqlite");

    /// <summary>Runs the stripped <paramref name="prediction"/> and <paramref name="reference"/> on the database named in
    /// <paramref name="prompt"/> and compares them both ways.</summary>
    /// <exception cref="InvalidDataException">The prompt cannot be scored (<see cref="Problem"/>).</exception>
    public SpiderVerdict Compare(string prompt, string prediction, string reference)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(reference);
        if (Problem(prompt) is { } problem) throw new InvalidDataException(problem + ".");
        string file = DatabaseFile(DatabaseId(prompt)!);
        var generated = SqliteQuery.Run(file, PythonText.Strip(prediction), Limits);
        var gold = SqliteQuery.Run(file, reference, Limits);
        bool ran = generated.Succeeded && gold.Succeeded;
        return new SpiderVerdict(
            ran && string.Equals(generated.Printed(), gold.Printed(), StringComparison.Ordinal),
            ran && generated.SameRows(gold, IsOrdered(reference)),
            generated.Error, gold.Error);
    }
}
