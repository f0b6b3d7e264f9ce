using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Jepa.Training.Evaluation;

/// <summary>
/// Runs an untrusted query (a model's generated SQL) on an SQLite database without letting it change anything or run
/// away. The database is opened read-only (<c>Mode=ReadOnly</c>), and an authorizer refuses, before it runs, every
/// statement that is not a read: SELECT, reading columns, calling functions and recursive common table expressions
/// are allowed; writes, DDL, ATTACH, PRAGMA and transactions are refused. A query past
/// <see cref="SqliteQueryLimits.Timeout"/> is interrupted, and one past <see cref="SqliteQueryLimits.MaxRows"/> rows is
/// stopped. Every one of these, and any SQLite error, is a failed result, never an exception.
/// </summary>
public static class SqliteQuery
{
    /// <summary>Virtual machine steps between two looks at the clock.</summary>
    private const int ProgressSteps = 1000;

    /// <summary>Runs <paramref name="sql"/> (every statement in it, as the <c>sqlite3</c> shell does) on
    /// <paramref name="databaseFile"/> within <paramref name="limits"/> (default <see cref="SqliteQueryLimits.Default"/>).</summary>
    /// <exception cref="FileNotFoundException">The database file does not exist.</exception>
    public static SqliteQueryResult Run(string databaseFile, string sql, SqliteQueryLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(databaseFile);
        ArgumentNullException.ThrowIfNull(sql);
        limits ??= SqliteQueryLimits.Default;
        if (!File.Exists(databaseFile)) throw new FileNotFoundException($"SQLite database '{databaseFile}' does not exist.", databaseFile);
        if (string.IsNullOrWhiteSpace(sql)) return SqliteQueryResult.Failed("empty query");
        var settings = new SqliteConnectionStringBuilder { DataSource = databaseFile, Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        using var connection = new SqliteConnection(settings.ToString());
        try
        {
            connection.Open();
        }
        catch (SqliteException e)
        {
            throw new InvalidDataException($"SQLite database '{databaseFile}' cannot be opened: {e.Message}", e);
        }
        var clock = Stopwatch.StartNew();
        bool timedOut = false;
        raw.sqlite3_progress_handler(connection.Handle, ProgressSteps, _ =>
        {
            if (clock.Elapsed <= limits.Timeout) return 0;
            timedOut = true;
            return 1;
        }, null);
        raw.sqlite3_set_authorizer(connection.Handle, new delegate_authorizer((_, action, _, _, _, _) => IsRead(action) ? raw.SQLITE_OK : raw.SQLITE_DENY), null);
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            var rows = new List<SqliteRow>();
            do
            {
                while (reader.Read())
                {
                    if (rows.Count == limits.MaxRows)
                        return SqliteQueryResult.Failed(string.Create(CultureInfo.InvariantCulture, $"more than {limits.MaxRows} rows"));
                    var values = new object[reader.FieldCount];
                    var texts = new string?[reader.FieldCount];
                    for (int i = 0; i < values.Length; i++)
                    {
                        values[i] = reader.GetValue(i);
                        texts[i] = values[i] switch { DBNull => null, double d => SqliteShellText.Real(d), _ => reader.GetString(i) };
                    }
                    rows.Add(new SqliteRow(values, texts));
                }
            }
            while (reader.NextResult());
            return SqliteQueryResult.Of(rows);
        }
        catch (SqliteException e)
        {
            return SqliteQueryResult.Failed(timedOut
                ? string.Create(CultureInfo.InvariantCulture, $"stopped after the time limit of {limits.Timeout.TotalSeconds:G} s")
                : e.Message);
        }
    }

    /// <summary>True for the authorizer actions a read needs.</summary>
    private static bool IsRead(int action) =>
        action is raw.SQLITE_SELECT or raw.SQLITE_READ or raw.SQLITE_FUNCTION or raw.SQLITE_RECURSIVE;
}
