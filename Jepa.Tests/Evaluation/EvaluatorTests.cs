using Jepa.Core;
using Jepa.Training;
using Jepa.Training.Data;
using Jepa.Training.Evaluation;
using Jepa.Training.Generation;
using Jepa.Training.Model;

namespace Jepa.Tests.Evaluation;

public sealed class EvaluatorTests
{
    private static JepaModel Tiny() =>
        JepaModel.Create(new ModelConfig(0, 16, 1, 2, 1, 24, MaxLength: 24), seed: 3, new DeviceOptions { Kind = DeviceKind.Cpu, CpuChunks = 2 }, predictorTokens: 2);

    [Fact]
    public void AScorerSeesThePromptThatNamesTheSpiderDatabase()
    {
        string dir = Directory.CreateTempSubdirectory("jepa-eval-spider-").FullName;
        try
        {
            SpiderTestDatabases.Create(dir, "d", "CREATE TABLE t (x)");
            using var model = JepaModel.Create(new ModelConfig(0, 16, 1, 2, 1, 24, MaxLength: 64), seed: 3,
                new DeviceOptions { Kind = DeviceKind.Cpu, CpuChunks = 2 }, predictorTokens: 2);
            var scorer = new AnswerScorer(AnswerMetric.SpiderExec, new SpiderMatch(dir));
            var options = new GenerateOptions(MaxNewTokens: 3);
            var result = Evaluator.Evaluate(model, [new PairExample(null, "For db_id:[d] q", "SELECT x FROM t")], scorer, options);
            var r = Assert.Single(result.Records);
            Assert.Equal(AnswerMetric.SpiderExec, result.Metric);
            Assert.Equal(scorer.IsCorrect(r.Text, r.Prediction, r.Reference), r.Correct);
            Assert.Equal(r.Correct, result.Rescore(scorer).Records[0].Correct);
            Assert.True(scorer.IsCorrect(r.Text, "SELECT x FROM t WHERE x > 0", r.Reference)); // both empty: the same rows
            Assert.Throws<InvalidDataException>(() => Evaluator.Evaluate(model, [new PairExample(null, "For db_id:[e] q", "SELECT 1")], scorer, options));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void EvaluatesEveryExampleInOrderAndScoresWithTheMetric()
    {
        using var model = Tiny();
        PairExample[] data = [new(null, "ab", "x"), new("sys", "c", "y"), new(null, new string('z', 40), "w")];
        var seen = new List<EvalRecord>();
        var options = new GenerateOptions(MaxNewTokens: 3);
        var result = Evaluator.Evaluate(model, data, AnswerMetric.Exact, options, new Sync(seen));

        Assert.Equal(3, result.Count);
        Assert.Equal(result.Records, seen);
        Assert.Equal(["ab", "c", new string('z', 40)], result.Records.Select(r => r.Text));
        Assert.Equal(["x", "y", "w"], result.Records.Select(r => r.Reference));
        // The same greedy decoding as JepaModel.Generate; the score is the metric's verdict on it.
        Assert.Equal(model.Generate("c", options, "sys"), result.Records[1].Prediction);
        foreach (var r in result.Records.Take(2)) Assert.Equal(ExactMatch.IsCorrect(r.Prediction, r.Reference), r.Correct);
        // A prompt longer than the model is wrong with its reason, not an exception.
        Assert.False(result.Records[2].Correct);
        Assert.Contains("maximum length is 24", result.Records[2].Error);
    }

    [Fact]
    public void CancellationStopsBetweenExamples()
    {
        using var model = Tiny();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() =>
            Evaluator.Evaluate(model, [new PairExample(null, "a", "b")], AnswerMetric.Exact, cancellation: cts.Token));
    }

    [Fact]
    public void BatchedEvaluationGivesTheSameRecordsAsOneAtATimeInExampleOrder()
    {
        using var model = Tiny();
        // Prompts of mixed lengths (several of each), two too long for the model among them.
        PairExample[] data = [.. Enumerable.Range(0, 19).Select(i => new PairExample(i % 4 == 0 ? "s" : null, new string((char)('a' + i % 5), i % 6), "ab")),
            new(null, new string('z', 40), "w"), new(null, "q", "r"), new("sys", new string('y', 30), "w"), new(null, "ab", "ab")];
        Assert.InRange(data.Select(e => model.Template.Prompt(e.System, e.Text).Length).Distinct().Count(), 6, 20);
        var options = new GenerateOptions(MaxNewTokens: 3);
        var alone = Evaluator.Evaluate(model, data, AnswerMetric.Exact, options, batchSize: 1);
        Assert.Equal(2, alone.Records.Count(r => r.Error is not null));
        foreach (var (e, r) in data.Zip(alone.Records).Where(x => x.Second.Error is null))
            Assert.Equal(model.Generate(e.Text, options, e.System), r.Prediction);
        Assert.True(alone.Records.Select(r => r.Prediction).Distinct().Count() >= 3, "too few distinct answers");

        foreach (int batch in (int[])[2, 5, 32])
        {
            var seen = new List<EvalRecord>();
            var result = Evaluator.Evaluate(model, data, AnswerMetric.Exact, options, new Sync(seen), batchSize: batch);
            Assert.Equal(alone.Records, result.Records);
            Assert.Equal(result.Records, seen);
        }
    }

    [Fact]
    public void CancellationStopsABatchedEvaluation()
    {
        using var model = Tiny();
        using var cts = new CancellationTokenSource();
        var seen = new List<EvalRecord>();
        var cancelAtFirst = new Sync(seen, cts.Cancel);
        PairExample[] data = [.. Enumerable.Range(0, 12).Select(i => new PairExample(null, new string('a', i % 3), "b"))];
        Assert.Throws<OperationCanceledException>(() =>
            Evaluator.Evaluate(model, data, AnswerMetric.Exact, new GenerateOptions(MaxNewTokens: 4), cancelAtFirst, cts.Token, batchSize: 4));
        Assert.InRange(seen.Count, 1, data.Length - 1);
    }

    private sealed class Sync(List<EvalRecord> list, Action? onReport = null) : IProgress<EvalRecord>
    {
        public void Report(EvalRecord value)
        {
            list.Add(value);
            onReport?.Invoke();
        }
    }
}
