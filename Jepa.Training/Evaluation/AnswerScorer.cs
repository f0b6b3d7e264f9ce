namespace Jepa.Training.Evaluation;

/// <summary>
/// Scores answers with one <see cref="AnswerMetric"/>, holding what a metric needs beyond the answer and its reference:
/// the Spider databases for <see cref="AnswerMetric.Spider"/> and <see cref="AnswerMetric.SpiderExec"/>, which also
/// read the prompt (it names the database).
/// </summary>
public sealed class AnswerScorer
{
    /// <summary>A scorer for <paramref name="metric"/>; <paramref name="spider"/> is required by the Spider metrics.</summary>
    /// <exception cref="ArgumentException">A Spider metric without <paramref name="spider"/>.</exception>
    public AnswerScorer(AnswerMetric metric, SpiderMatch? spider = null)
    {
        if (metric.NeedsDatabase() && spider is null)
            throw new ArgumentException($"The {metric.Name()} metric needs the Spider databases (--spider-db DIR).", nameof(spider));
        Metric = metric;
        Spider = spider;
    }

    /// <summary>The metric.</summary>
    public AnswerMetric Metric { get; }

    /// <summary>The Spider databases, or null.</summary>
    public SpiderMatch? Spider { get; }

    /// <summary>The same databases with another metric.</summary>
    public AnswerScorer With(AnswerMetric metric) => new(metric, Spider);

    /// <summary>Why an example with this prompt cannot be scored (for Spider: no database named, or its file missing), or null.</summary>
    public string? Problem(string prompt) => Metric.NeedsDatabase() ? Spider!.Problem(prompt) : null;

    /// <summary>True when <paramref name="prediction"/> is a correct answer to <paramref name="prompt"/> with reference
    /// <paramref name="reference"/>.</summary>
    /// <exception cref="InvalidDataException">A Spider prompt that cannot be scored (<see cref="Problem"/>).</exception>
    public bool IsCorrect(string prompt, string prediction, string reference) => Metric switch
    {
        AnswerMetric.Spider => Spider!.Compare(prompt, prediction, reference).SamePrinted,
        AnswerMetric.SpiderExec => Spider!.Compare(prompt, prediction, reference).SameResult,
        _ => Metric.IsCorrect(prediction, reference),
    };
}
