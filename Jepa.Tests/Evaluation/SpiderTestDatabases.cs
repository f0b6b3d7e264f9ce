using Microsoft.Data.Sqlite;

namespace Jepa.Tests.Evaluation;

/// <summary>Builds small Spider-layout databases (<c>DIR/NAME/NAME.sqlite</c>) for tests.</summary>
internal static class SpiderTestDatabases
{
    /// <summary>Creates <c>DIR/NAME/NAME.sqlite</c> by running <paramref name="statements"/>; returns the file's path.</summary>
    public static string Create(string dir, string name, params string[] statements)
    {
        string folder = Path.Combine(dir, name);
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, name + ".sqlite");
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString()))
        {
            connection.Open();
            foreach (string sql in statements)
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                command.ExecuteNonQuery();
            }
        }
        return file;
    }
}
