using System.Globalization;

namespace Jepa.Training.Evaluation;

/// <summary>The outcome of <see cref="Evaluator"/>: per-example records and the accuracy with its count.</summary>
public sealed class EvalResult
{
    /// <summary>Wraps scored records.</summary>
    public EvalResult(AnswerMetric metric, IReadOnlyList<EvalRecord> records)
    {
        Metric = metric;
        Records = records;
        Correct = records.Count(r => r.Correct);
    }

    /// <summary>The metric the records were scored with.</summary>
    public AnswerMetric Metric { get; }

    /// <summary>The examples, in input order.</summary>
    public IReadOnlyList<EvalRecord> Records { get; }

    /// <summary>Examples scored correct.</summary>
    public int Correct { get; }

    /// <summary>Examples evaluated.</summary>
    public int Count => Records.Count;

    /// <summary>Correct / Count (0 when there are no examples).</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;

    /// <summary>The same predictions scored with <paramref name="metric"/> (no new generation; not a Spider metric).</summary>
    public EvalResult Rescore(AnswerMetric metric) => Rescore(new AnswerScorer(metric));

    /// <summary>The same predictions scored by <paramref name="scorer"/> (no new generation).</summary>
    public EvalResult Rescore(AnswerScorer scorer)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        return new(scorer.Metric, Records.Select(r => r with { Correct = r.Error is null && scorer.IsCorrect(r.Text, r.Prediction, r.Reference) }).ToArray());
    }

    /// <summary>The accuracy as a line, e.g. <c>exact match 41.2 % (412/1000)</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Metric.Describe()} {100 * Accuracy:F1} % ({Correct}/{Count})");
}
