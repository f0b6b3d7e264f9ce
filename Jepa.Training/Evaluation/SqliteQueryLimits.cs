namespace Jepa.Training.Evaluation;

/// <summary>What one query of <see cref="SqliteQuery.Run"/> may use before it is stopped and counted as failed.</summary>
/// <param name="Timeout">Longest running time (checked by SQLite's progress handler every few thousand steps).</param>
/// <param name="MaxRows">Most result rows, over all of the statement's result sets.</param>
public sealed record SqliteQueryLimits(TimeSpan Timeout, int MaxRows)
{
    /// <summary>5 seconds and 100,000 rows.</summary>
    public static SqliteQueryLimits Default { get; } = new(TimeSpan.FromSeconds(5), 100_000);
}
