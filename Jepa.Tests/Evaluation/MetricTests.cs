using Jepa.RegexTask;
using Jepa.Training.Evaluation;

namespace Jepa.Tests.Evaluation;

public sealed class MetricTests
{
    [Theory]
    [InlineData("([0-9]).*", "([0-9]).*", true)]
    [InlineData("  ([0-9]).*\n", "([0-9]).*", true)]
    [InlineData("([0-9]).* ", " ([0-9]).*", false)]  // the reference is not stripped, as in the paper's code
    [InlineData("([0-9]).*", "([0-9]).* ", false)]
    [InlineData("\u001f([0-9]).*\u00a0", "([0-9]).*", true)] // Python's strip() white space
    [InlineData("([0-9])*", "([0-9]).*", false)]
    [InlineData("ABC", "abc", false)]
    [InlineData("", "", true)]
    public void ExactMatchComparesTheStrippedPredictionWithTheReference(string prediction, string reference, bool expected)
    {
        Assert.Equal(expected, ExactMatch.IsCorrect(prediction, reference));
        Assert.Equal(expected, AnswerMetric.Exact.IsCorrect(prediction, reference));
    }

    [Theory]
    [InlineData("([0-9]).*", "([0-9]).*", true)]                          // identical
    [InlineData("(([0-9])|([A-Z])).*", "(([A-Z])|([0-9])).*", true)]       // alternation order does not matter
    [InlineData("((dog)+)", "(dog)+", true)]                               // redundant group
    [InlineData(" ([0-9]).* ", "([0-9]).*", true)]                         // trimmed like exact match
    [InlineData("([0-9]).*", "([A-Z]).*", false)]                          // different language
    [InlineData("(([0-9]).*", "([0-9]).*", false)]                         // unbalanced: a parse error counts wrong
    [InlineData("", "([0-9]).*", false)]
    public void RegexMatchIsSemanticEquivalence(string prediction, string reference, bool expected)
    {
        Assert.Equal(expected, RegexMatch.IsCorrect(prediction, reference));
        Assert.Equal(expected, AnswerMetric.Regex.IsCorrect(prediction, reference));
    }

    [Theory]
    [InlineData("She sells 16 - 3 - 4 = 9 eggs.\n#### 18", "18")]
    [InlineData("#### 1,234", "1234")]
    [InlineData("first #### 5 then #### -7.5 dollars", "-7.5")]
    [InlineData("#### $1,000,000", "1000000")]
    [InlineData("the answer is 18", null)]
    [InlineData("#### none", null)]
    public void Gsm8kExtractsTheNumberAfterTheLastMarker(string text, string? expected) =>
        Assert.Equal(expected, Gsm8kAnswer.Extract(text));

    [Theory]
    [InlineData("so 9 * 2 = 18\n#### 18", "Janet has...\n#### 18", true)]
    [InlineData("#### 1,800", "#### 1800", true)]
    [InlineData("#### 18.0", "#### 18", true)]
    [InlineData("#### 17", "#### 18", false)]
    [InlineData("18", "#### 18", false)]         // no marker in the prediction
    [InlineData("#### 18", "18", false)]         // no marker in the reference
    public void Gsm8kComparesFinalAnswers(string prediction, string reference, bool expected)
    {
        Assert.Equal(expected, Gsm8kAnswer.IsCorrect(prediction, reference));
        Assert.Equal(expected, AnswerMetric.Gsm8k.IsCorrect(prediction, reference));
    }

    [Fact]
    public void NqContainsNormalisationLowersStripsPunctuationAndArticles()
    {
        Assert.Equal("eiffel tower", NqContainsAnswer.Normalize("The Eiffel-Tower!"));
        Assert.Equal("paris france", NqContainsAnswer.Normalize("  Paris,   France. "));
        Assert.Equal("answer is 42", NqContainsAnswer.Normalize("An answer is: 42"));
    }

    [Fact]
    public void NqContainsReferencesComeFromAJsonListOrBars()
    {
        Assert.Equal(["Paris", "Paris, France"], NqContainsAnswer.References("[\"Paris\", \"Paris, France\"]"));
        Assert.Equal(["George Washington", "Washington"], NqContainsAnswer.References("George Washington | Washington"));
        Assert.Equal(["[not json"], NqContainsAnswer.References("[not json"));
    }

    [Theory]
    [InlineData("It is the Eiffel Tower.", "eiffel tower", true)]
    [InlineData("I think it was George Washington", "[\"Abraham Lincoln\", \"George Washington\"]", true)]
    [InlineData("Washington, of course", "George Washington|Washington", true)]
    [InlineData("in 1990", "199", false)]        // whole words only
    [InlineData("London", "[\"Paris\"]", false)]
    [InlineData("the", "the", false)]            // an answer that normalises to nothing never matches
    public void NqContainsChecksAnswerContainment(string prediction, string reference, bool expected)
    {
        Assert.Equal(expected, NqContainsAnswer.IsCorrect(prediction, reference));
        Assert.Equal(expected, AnswerMetric.NqContains.IsCorrect(prediction, reference));
    }

    [Fact]
    public void MetricNamesRoundTripAndUnknownNamesAreListed()
    {
        foreach (var m in Enum.GetValues<AnswerMetric>()) Assert.Equal(m, AnswerMetrics.Parse(m.Name()));
        var e = Assert.Throws<ArgumentException>(() => AnswerMetrics.Parse("bleu"));
        Assert.Contains("exact, regex, gsm8k, nq, startswith, gsm8k-paper, nq-contains, spider, spider-exec, hellaswag", e.Message);
        Assert.Equal(AnswerMetric.Gsm8kPaper, AnswerMetrics.Parse(" GSM8K-Paper "));
        Assert.DoesNotContain("spider", AnswerMetrics.TextNames);
        Assert.Contains("nq-contains", AnswerMetrics.TextNames);
    }

    [Fact]
    public void SpiderMetricsNeedAScorerWithDatabases()
    {
        Assert.Throws<InvalidOperationException>(() => AnswerMetric.Spider.IsCorrect("SELECT 1", "SELECT 1"));
        var e = Assert.Throws<ArgumentException>(() => new AnswerScorer(AnswerMetric.SpiderExec));
        Assert.Contains("--spider-db", e.Message);
        Assert.True(new AnswerScorer(AnswerMetric.StartsWith).IsCorrect("prompt", " Very Good, indeed", "Very Good"));
    }

    [Fact]
    public void ResultCountsAndRescores()
    {
        var r = new EvalResult(AnswerMetric.Exact,
        [
            new EvalRecord("a", "(dog)+", "((dog)+)", false),
            new EvalRecord("b", "x", "x", true),
            new EvalRecord("c", "x", "", false, "the prompt has 99 tokens"),
        ]);
        Assert.Equal("exact match 33.3 % (1/3)", r.ToString());
        var regex = r.Rescore(AnswerMetric.Regex);
        Assert.Equal(2, regex.Correct);
        Assert.False(regex.Records[2].Correct); // an example without an answer stays wrong
        Assert.Equal("regex equivalence 66.7 % (2/3)", regex.ToString());
    }
}
