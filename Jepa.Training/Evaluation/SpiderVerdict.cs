namespace Jepa.Training.Evaluation;

/// <summary>How a generated SQL query compares with the gold one (<see cref="SpiderMatch.Compare"/>).</summary>
/// <param name="SamePrinted">The <c>spider</c> verdict (the paper's): both ran and print the same text.</param>
/// <param name="SameResult">The <c>spider-exec</c> verdict (execution accuracy): both ran and return the same rows, in the
/// same order when the gold query has ORDER BY.</param>
/// <param name="PredictionError">Why the generated query failed (an error, a refused write, a limit), or null.</param>
/// <param name="ReferenceError">Why the gold query failed, or null.</param>
public sealed record SpiderVerdict(bool SamePrinted, bool SameResult, string? PredictionError, string? ReferenceError);
