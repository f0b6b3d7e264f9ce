using System.Globalization;
using System.Text;

namespace Jepa.Training.Evaluation;

/// <summary>One result row of <see cref="SqliteQuery"/>: each cell's printed text and a key that compares values.</summary>
public sealed class SqliteRow
{
    /// <summary>Builds a row from the values a reader returned (<see cref="DBNull"/>, long, double, string or byte[]) and
    /// SQLite's text for each (null for NULL).</summary>
    public SqliteRow(IReadOnlyList<object> values, IReadOnlyList<string?> texts)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(texts);
        if (values.Count != texts.Count) throw new ArgumentException("One text per value is needed.", nameof(texts));
        Texts = texts.Select(t => t ?? "").ToArray();
        var key = new StringBuilder();
        foreach (object v in values)
        {
            string cell = CellKey(v);
            key.Append(cell.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(cell);
        }
        Key = key.ToString();
    }

    /// <summary>The cells as the <c>sqlite3</c> shell prints them (NULL as the empty string).</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>The row's values, encoded so that two rows have equal keys exactly when their values are equal.</summary>
    public string Key { get; }

    private static string CellKey(object value) => value switch
    {
        DBNull or null => "null",
        long l => "n" + l.ToString(CultureInfo.InvariantCulture),
        double d when double.IsInteger(d) && Math.Abs(d) < 9.0e15 => "n" + ((long)d).ToString(CultureInfo.InvariantCulture),
        double d => "r" + d.ToString("R", CultureInfo.InvariantCulture),
        string s => "t" + s,
        byte[] b => "b" + Convert.ToHexString(b),
        _ => "o" + Convert.ToString(value, CultureInfo.InvariantCulture),
    };
}
