using System.Text;

namespace Jepa.Training.Evaluation;

/// <summary>
/// The outcome of <see cref="SqliteQuery.Run"/>: the result rows, or why there are none. Each cell is kept twice: as
/// SQLite's own text for it (what the <c>sqlite3</c> shell prints) and as a typed key for comparing values.
/// </summary>
public sealed class SqliteQueryResult
{
    private readonly IReadOnlyList<SqliteRow> _rows;

    private SqliteQueryResult(IReadOnlyList<SqliteRow> rows, string? error)
    {
        _rows = rows;
        Error = error;
    }

    /// <summary>A query that ran to the end.</summary>
    public static SqliteQueryResult Of(IReadOnlyList<SqliteRow> rows) => new(rows, null);

    /// <summary>A query that failed: an SQLite error, a refused write, the time limit or the row limit.</summary>
    public static SqliteQueryResult Failed(string error) => new([], error);

    /// <summary>Why the query failed, or null when it ran.</summary>
    public string? Error { get; }

    /// <summary>True when the query ran to the end within the limits.</summary>
    public bool Succeeded => Error is null;

    /// <summary>The result rows of every statement, in order (empty when the query failed).</summary>
    public IReadOnlyList<SqliteRow> Rows => _rows;

    /// <summary>
    /// The rows as the <c>sqlite3</c> shell prints them in its default list mode: a row's cells joined by <c>|</c>,
    /// each row followed by <c>\n</c>; NULL prints as nothing, an INTEGER in decimal, a REAL as
    /// <see cref="SqliteShellText.Real"/> (15 significant digits, always a decimal point: <c>2.0</c>), text and blobs as
    /// their UTF-8 text. Empty for a failed query, as the shell
    /// prints nothing on standard output for a query that fails.
    /// </summary>
    public string Printed()
    {
        var sb = new StringBuilder();
        foreach (var row in _rows) sb.AppendJoin('|', row.Texts).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// True when both queries ran and returned the same rows: as multisets (duplicates counted), or in the same order
    /// when <paramref name="ordered"/>. Cells compare by value: NULL equals NULL, an INTEGER equals a REAL of the same
    /// value, text and blobs compare exactly, and a number never equals text.
    /// </summary>
    public bool SameRows(SqliteQueryResult other, bool ordered)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!Succeeded || !other.Succeeded || _rows.Count != other._rows.Count) return false;
        var mine = _rows.Select(r => r.Key);
        var theirs = other._rows.Select(r => r.Key);
        if (!ordered)
        {
            mine = mine.Order(StringComparer.Ordinal);
            theirs = theirs.Order(StringComparer.Ordinal);
        }
        return mine.SequenceEqual(theirs, StringComparer.Ordinal);
    }
}
