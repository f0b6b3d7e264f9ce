namespace Jepa.Training.Evaluation;

/// <summary>How a generated answer is scored against its reference.</summary>
public enum AnswerMetric
{
    /// <summary>Trimmed string equality (<see cref="ExactMatch"/>), the paper's accuracy.</summary>
    Exact,

    /// <summary>Semantic equivalence of NL-RX regular expressions (<see cref="RegexMatch"/>).</summary>
    Regex,

    /// <summary>The GSM8K final answer after the last <c>####</c> (<see cref="Gsm8kAnswer"/>).</summary>
    Gsm8k,

    /// <summary>NQ-open answer containment after normalisation (<see cref="NqAnswer"/>).</summary>
    Nq,
}

/// <summary>Names, parsing and scoring of <see cref="AnswerMetric"/> values.</summary>
public static class AnswerMetrics
{
    /// <summary>The names accepted by <see cref="Parse"/>, in declaration order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["exact", "regex", "gsm8k", "nq"];

    /// <summary>Parses <c>exact</c>, <c>regex</c>, <c>gsm8k</c> or <c>nq</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Any other name; the message lists the valid ones.</exception>
    public static AnswerMetric Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "exact" => AnswerMetric.Exact,
        "regex" => AnswerMetric.Regex,
        "gsm8k" => AnswerMetric.Gsm8k,
        "nq" => AnswerMetric.Nq,
        _ => throw new ArgumentException($"Unknown metric '{name}'. Valid metrics: {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>The short name used on the command line.</summary>
    public static string Name(this AnswerMetric metric) => Names[(int)metric];

    /// <summary>A readable name for reports, e.g. "exact match".</summary>
    public static string Describe(this AnswerMetric metric) => metric switch
    {
        AnswerMetric.Exact => "exact match",
        AnswerMetric.Regex => "regex equivalence",
        AnswerMetric.Gsm8k => "GSM8K answer",
        AnswerMetric.Nq => "NQ answer",
        _ => metric.ToString(),
    };

    /// <summary>True when <paramref name="prediction"/> is a correct answer for <paramref name="reference"/> under <paramref name="metric"/>.</summary>
    public static bool IsCorrect(this AnswerMetric metric, string prediction, string reference)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(reference);
        return metric switch
        {
            AnswerMetric.Exact => ExactMatch.IsCorrect(prediction, reference),
            AnswerMetric.Regex => RegexMatch.IsCorrect(prediction, reference),
            AnswerMetric.Gsm8k => Gsm8kAnswer.IsCorrect(prediction, reference),
            AnswerMetric.Nq => NqAnswer.IsCorrect(prediction, reference),
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown answer metric."),
        };
    }
}
