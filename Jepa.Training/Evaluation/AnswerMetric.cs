using Jepa.RegexTask;

namespace Jepa.Training.Evaluation;

/// <summary>How a generated answer is scored against its reference.</summary>
public enum AnswerMetric
{
    /// <summary>The paper's accuracy: the stripped answer equals the reference (<see cref="ExactMatch"/>).</summary>
    Exact,

    /// <summary>Semantic equivalence of NL-RX regular expressions (<see cref="RegexMatch"/>).</summary>
    Regex,

    /// <summary>The GSM8K final answer after the last <c>####</c>, compared as numbers (<see cref="Gsm8kAnswer"/>).</summary>
    Gsm8k,

    /// <summary>The paper's NQ-open rule: a <c>"; "</c>-separated piece of the answer occurs in the reference (<see cref="NqAnswer"/>).</summary>
    Nq,

    /// <summary>The paper's <c>--startswith</c> rule: the stripped answer begins with the reference (<see cref="StartsWithMatch"/>).</summary>
    StartsWith,

    /// <summary>The paper's GSM8K rule: the text after <c>\n#### </c> compared as strings (<see cref="Gsm8kPaperAnswer"/>).</summary>
    Gsm8kPaper,

    /// <summary>NQ-open answer containment after normalisation (<see cref="NqContainsAnswer"/>).</summary>
    NqContains,

    /// <summary>The paper's Spider rule: both queries print the same result (<see cref="SpiderMatch"/>).</summary>
    Spider,

    /// <summary>Spider execution accuracy: both queries return the same rows (<see cref="SpiderMatch"/>).</summary>
    SpiderExec,

    /// <summary>The paper's HellaSwag rule: no generation; the answer is the likeliest of the tokens "A", "B", "C", "D"
    /// after the prompt (<see cref="Generation.NextTokenChoice"/>, run by <see cref="Evaluator"/>), scored as
    /// <see cref="Exact"/> against the reference letter.</summary>
    Hellaswag,
}

/// <summary>Names, parsing and scoring of <see cref="AnswerMetric"/> values.</summary>
public static class AnswerMetrics
{
    /// <summary>The names accepted by <see cref="Parse"/>, in declaration order.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["exact", "regex", "gsm8k", "nq", "startswith", "gsm8k-paper", "nq-contains", "spider", "spider-exec", "hellaswag"];

    /// <summary>The names of the metrics that need nothing but the answer and its reference (all but the Spider ones).</summary>
    public static IReadOnlyList<string> TextNames { get; } =
        Enum.GetValues<AnswerMetric>().Where(m => !m.NeedsDatabase()).Select(m => m.Name()).ToArray();

    /// <summary>Parses one of <see cref="Names"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Any other name; the message lists the valid ones.</exception>
    public static AnswerMetric Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int i = Names.ToList().IndexOf(name.Trim().ToLowerInvariant());
        if (i < 0) throw new ArgumentException($"Unknown metric '{name}'. Valid metrics: {string.Join(", ", Names)}.", nameof(name));
        return (AnswerMetric)i;
    }

    /// <summary>The short name used on the command line.</summary>
    public static string Name(this AnswerMetric metric) => Names[(int)metric];

    /// <summary>True for <see cref="AnswerMetric.Hellaswag"/>, whose answers are chosen among <see cref="Choices"/> by one
    /// forward pass rather than generated.</summary>
    public static bool ChoosesNextToken(this AnswerMetric metric) => metric is AnswerMetric.Hellaswag;

    /// <summary>The answers <see cref="AnswerMetric.Hellaswag"/> chooses among: the paper's "A", "B", "C", "D".</summary>
    public static IReadOnlyList<string> Choices { get; } = ["A", "B", "C", "D"];

    /// <summary>True for the Spider metrics, which run queries on databases named by the prompt (<see cref="AnswerScorer"/>).</summary>
    public static bool NeedsDatabase(this AnswerMetric metric) => metric is AnswerMetric.Spider or AnswerMetric.SpiderExec;

    /// <summary>A readable name for reports, e.g. "exact match".</summary>
    public static string Describe(this AnswerMetric metric) => metric switch
    {
        AnswerMetric.Exact => "exact match",
        AnswerMetric.Regex => "regex equivalence",
        AnswerMetric.Gsm8k => "GSM8K answer",
        AnswerMetric.Nq => "NQ answer",
        AnswerMetric.StartsWith => "starts with",
        AnswerMetric.Gsm8kPaper => "GSM8K answer (paper's string rule)",
        AnswerMetric.NqContains => "NQ normalised containment",
        AnswerMetric.Spider => "Spider printed result",
        AnswerMetric.SpiderExec => "Spider execution accuracy",
        AnswerMetric.Hellaswag => "HellaSwag choice",
        _ => metric.ToString(),
    };

    /// <summary>True when <paramref name="prediction"/> is a correct answer for <paramref name="reference"/> under
    /// <paramref name="metric"/>, which must not need a database (<see cref="NeedsDatabase"/>: use <see cref="AnswerScorer"/>).</summary>
    /// <exception cref="InvalidOperationException">A Spider metric.</exception>
    public static bool IsCorrect(this AnswerMetric metric, string prediction, string reference)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(reference);
        return metric switch
        {
            AnswerMetric.Exact or AnswerMetric.Hellaswag => ExactMatch.IsCorrect(prediction, reference),
            AnswerMetric.Regex => RegexMatch.IsCorrect(prediction, reference),
            AnswerMetric.Gsm8k => Gsm8kAnswer.IsCorrect(prediction, reference),
            AnswerMetric.Nq => NqAnswer.IsCorrect(prediction, reference),
            AnswerMetric.StartsWith => StartsWithMatch.IsCorrect(prediction, reference),
            AnswerMetric.Gsm8kPaper => Gsm8kPaperAnswer.IsCorrect(prediction, reference),
            AnswerMetric.NqContains => NqContainsAnswer.IsCorrect(prediction, reference),
            AnswerMetric.Spider or AnswerMetric.SpiderExec =>
                throw new InvalidOperationException($"The {metric.Name()} metric runs queries on the database the prompt names; score it with an AnswerScorer."),
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown answer metric."),
        };
    }
}
