using Jepa.Tests.Support;
using Jepa.Training.Autograd;
using Jepa.Training.Data;
using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Tokenization;

namespace Jepa.Tests.Training;

/// <summary>Which token embeds each view, for every predictor placement and every named token, and the label reach of
/// the next-token loss.</summary>
public sealed class ViewLayoutTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    // the jepa chat format's ids: <|bos|> 257, <|user|> 260, <|assistant|> 261, <|end|> 262
    private const int Bos = 257, User = 260, Assistant = 261, End = 262;
    private static readonly ByteTokenizer Tok = TinySetup.Tokenizer;
    private static int P(int i) => Tok.Special.Predictors[i];

    private static EncodedPair Pair(string text = "ab", string code = "xy") => new ChatTemplate(Tok).Encode(new PairExample(null, text, code), 64);

    [Theory]
    // placement, k, token → the laid-out Text view and the index embedded
    [InlineData(PredictorPlacement.InTurn, 2, EmbedToken.LastContent, 3)]
    [InlineData(PredictorPlacement.InTurn, 2, EmbedToken.LastPredictor, 5)]
    [InlineData(PredictorPlacement.InTurn, 2, EmbedToken.End, 6)]
    [InlineData(PredictorPlacement.InTurn, 2, EmbedToken.Last, 6)]
    [InlineData(PredictorPlacement.InTurn, 2, EmbedToken.Auto, 5)]
    [InlineData(PredictorPlacement.AfterTurn, 2, EmbedToken.LastContent, 3)]
    [InlineData(PredictorPlacement.AfterTurn, 2, EmbedToken.LastPredictor, 6)]
    [InlineData(PredictorPlacement.AfterTurn, 2, EmbedToken.End, 4)]
    [InlineData(PredictorPlacement.AfterTurn, 2, EmbedToken.Auto, 6)]
    [InlineData(PredictorPlacement.Front, 2, EmbedToken.LastContent, 5)]
    [InlineData(PredictorPlacement.Front, 2, EmbedToken.LastPredictor, 3)]
    [InlineData(PredictorPlacement.Front, 2, EmbedToken.End, 6)]
    [InlineData(PredictorPlacement.Front, 2, EmbedToken.Auto, 5)]
    [InlineData(PredictorPlacement.InTurn, 0, EmbedToken.Auto, 3)]
    [InlineData(PredictorPlacement.InTurn, 0, EmbedToken.End, 4)]
    public void TheTextViewIsEmbeddedAtTheNamedToken(PredictorPlacement placement, int k, EmbedToken token, int expected)
    {
        var o = new JepaOptions { Predictors = k, Placement = placement, TextToken = token }.Validate(4);
        var (ids, at, count) = o.LayOut(Pair().Text, isText: true, Tok.Special.Predictors, 64, "Text");
        Assert.Equal(1, count);
        int[] preds = [.. Tok.Special.Predictors.Take(k)];
        int[] want = placement switch
        {
            PredictorPlacement.InTurn => [Bos, User, 'a', 'b', .. preds, End],
            PredictorPlacement.AfterTurn => [Bos, User, 'a', 'b', End, .. preds],
            _ => [Bos, User, .. preds, 'a', 'b', End],
        };
        Assert.Equal(want, ids);
        Assert.Equal(expected, at);
    }

    [Theory]
    [InlineData(false, EmbedToken.Auto, 3)]           // Code: its last content token ('y')
    [InlineData(false, EmbedToken.End, 4)]
    [InlineData(true, EmbedToken.Auto, 4)]            // reverse-pred: the Code view carries the one predictor, embedded at it
    public void TheCodeViewIsEmbeddedAtTheNamedToken(bool reverse, EmbedToken token, int expected)
    {
        var o = new JepaOptions { Predictors = 1, ReversePred = reverse, CodeToken = token }.Validate(4);
        var (ids, at, count) = o.LayOut(Pair().Code, isText: false, Tok.Special.Predictors, 64, "Code");
        Assert.Equal(1, count);
        Assert.Equal(reverse ? new[] { Bos, Assistant, 'x', 'y', P(0), End } : new[] { Bos, Assistant, 'x', 'y', End }, ids);
        Assert.Equal(expected, at);
    }

    [Fact]
    public void ThePapersLastTokenMinusTwoIsTheLastPredictorForTextAndTheLastContentTokenForCode()
    {
        var o = new JepaOptions { Predictors = 3, LastTokenOffset = -2 }.Validate(4);
        var (text, ta, _) = o.LayOut(Pair().Text, true, Tok.Special.Predictors, 64, "Text");
        var (code, ca, _) = o.LayOut(Pair().Code, false, Tok.Special.Predictors, 64, "Code");
        Assert.Equal(P(2), text[ta]);
        Assert.Equal('y', code[ca]);
        // ...which is exactly what the named default picks
        var d = new JepaOptions { Predictors = 3 };
        Assert.Equal(ta, d.LayOut(Pair().Text, true, Tok.Special.Predictors, 64, "Text").At);
        Assert.Equal(ca, d.LayOut(Pair().Code, false, Tok.Special.Predictors, 64, "Code").At);
    }

    [Theory]
    [InlineData(PredictorPlacement.InTurn, false, "xyz", 2, 3)]   // Code: 'x' 'y' 'z', its header and end left out
    [InlineData(PredictorPlacement.Front, true, "xyz", 2, 3)]     // reverse-pred: the Text view is the target, its message 'x' 'y' 'z'
    [InlineData(PredictorPlacement.InTurn, false, "", 1, 1)]      // an empty message: its last header token
    public void TheMeanEmbeddingSpansTheMessageTokens(PredictorPlacement placement, bool reverse, string code, int at, int count)
    {
        // with reverse-pred the predicting view is Code, so the mean goes on Text (the target); check the Code side otherwise
        var o = new JepaOptions { Predictors = 1, Placement = placement, ReversePred = reverse,
            CodeToken = reverse ? EmbedToken.Auto : EmbedToken.Mean, TextToken = reverse ? EmbedToken.Mean : EmbedToken.Auto }.Validate(4);
        var view = reverse ? Pair(text: code).Text : Pair(code: code).Code;
        var (ids, a, n) = o.LayOut(view, isText: reverse, Tok.Special.Predictors, 64, "view");
        Assert.Equal((at, count), (a, n));
        if (code.Length > 0) Assert.Equal(code.Select(ch => (int)ch), ids.Skip(a).Take(n));
    }

    [Fact]
    public void TheMeanCannotEmbedTheViewThatCarriesThePredictors()
    {
        var e = Assert.Throws<ArgumentException>(() => new JepaOptions { Predictors = 1, TextToken = EmbedToken.Mean }.Validate(4));
        Assert.Contains("mean", e.Message);
        new JepaOptions { Predictors = 0, TextToken = EmbedToken.Mean }.Validate(4);
    }

    [Theory]
    [InlineData(ViewEncoding.Separate)]
    [InlineData(ViewEncoding.Single)]
    public void TheMeanCodeEmbeddingIsTheMeanOfTheCodeTokensStates(ViewEncoding views)
    {
        // Enc(Code) with --code-token mean equals the float64 mean of the Code view's message states from a plain forward of
        // each view alone, in both view encodings.
        using var model = TinySetup.Model(f.Ops);
        var pairs = TinySetup.Pairs(3, 32);
        var o = new JepaOptions { Predictors = 2, Views = views, CodeToken = EmbedToken.Mean };
        using var batch = TinySetup.Batch(f.Ops, pairs, o);
        float[] target;
        using (var tape = new Tape(f.Ops, recordGradients: false))
            target = new JepaObjective(model, o).Forward(tape, batch, skipJepa: false).Parts.Target!.Value.ToArray();
        int C = model.Config.DModel;
        var template = new ChatTemplate(TinySetup.Tokenizer);
        for (int b = 0; b < pairs.Length; b++)
        {
            var (ids, at, count) = o.LayOut(template.Encode(pairs[b], model.Config.MaxLength).Code, false, TinySetup.Tokenizer.Special.Predictors, model.Config.MaxLength, "Code");
            Assert.True(count > 1);
            using var seq = new SequenceBatch(f.Device, 1, ids.Length, ids, model.Config.VocabSize);
            using var tape = new Tape(f.Ops, recordGradients: false);
            var h = model.Forward(tape, seq).Value.ToArray();
            var mean = new double[C];
            for (int r = at; r < at + count; r++) for (int c = 0; c < C; c++) mean[c] += h[r * C + c] / (double)count;
            Reference.AssertClose(target.AsSpan(b * C, C), mean, 1e-4, $"pair {b}: mean Code embedding");
        }
    }

    [Fact]
    public void AskingForATokenAViewLacksIsAnError()
    {
        Assert.Throws<ArgumentException>(() => new JepaOptions { Predictors = 0, TextToken = EmbedToken.LastPredictor }.Validate(4));
        Assert.Throws<ArgumentException>(() => new JepaOptions { Predictors = 1, CodeToken = EmbedToken.LastPredictor }.Validate(4));
        var noTail = new ViewTokens([Bos, User], ['a'], []);
        var e = Assert.Throws<ArgumentException>(() => new JepaOptions { TextToken = EmbedToken.End }.LayOut(noTail, true, Tok.Special.Predictors, 64, "Example 3: its Text view"));
        Assert.Contains("Example 3", e.Message);
    }

    [Fact]
    public void ALongViewLosesTheEndOfItsMessageAndKeepsItsHeaderPredictorsAndEndToken()
    {
        var o = new JepaOptions { Predictors = 2 };
        var (ids, at, _) = o.LayOut(Pair("abcdefgh").Text, true, Tok.Special.Predictors, 8, "Text");
        Assert.Equal(new[] { Bos, User, 'a', 'b', 'c', P(0), P(1), End }, ids);
        Assert.Equal(6, at);
    }

    [Theory]
    [InlineData(ViewEncoding.Separate)]
    [InlineData(ViewEncoding.Single)]
    public void TheTextEmbeddingSeesThePredictorsAndTheCodeEmbeddingDoesNot(ViewEncoding views)
    {
        // Change the first predictor's embedding row: Pred(Enc(Text)) must move (it is computed at or after the
        // predictors), Enc(Code) must not (the Code view carries no predictors). Fails if the Text view were embedded before
        // its predictors (the old --last-token −2 trap) or if predictors were laid out where the embedded token cannot see them.
        using var model = TinySetup.Model(f.Ops);
        var pairs = TinySetup.Pairs(3, 31);
        var o = new JepaOptions { Predictors = 2, Views = views };
        (float[] Text, float[] Code) Embeddings()
        {
            using var batch = TinySetup.Batch(f.Ops, pairs, o);
            using var tape = new Tape(f.Ops, recordGradients: false);
            var (_, parts) = new JepaObjective(model, o).Forward(tape, batch, skipJepa: false);
            return (parts.Predicted!.Value.ToArray(), parts.Target!.Value.ToArray());
        }
        var before = Embeddings();
        var w = model.Embed.Value.ToArray();
        int C = model.Config.DModel;
        for (int c = 0; c < C; c++) w[P(0) * C + c] += 0.5f;
        model.Embed.Value.CopyFrom(w);
        var after = Embeddings();
        for (int b = 0; b < pairs.Length; b++)
            Assert.True(before.Text.Skip(b * C).Take(C).Zip(after.Text.Skip(b * C).Take(C)).Any(p => p.First != p.Second), $"pair {b}: the Text embedding ignores the predictors");
        Reference.AssertBitwiseEqual(after.Code, before.Code, "Code embeddings");
    }

    [Fact]
    public void ConversationLabelsCoverEveryNextTokenAndAnswerLabelsOnlyTheAnswer()
    {
        var e = new ChatTemplate(Tok).Encode(new PairExample("s", "ab", "xy"), 64);
        var conv = e.ConversationLabels();
        for (int i = 0; i + 1 < e.Full.Length; i++) Assert.Equal(e.Full[i + 1], conv[i]);
        Assert.Equal(ChatTemplate.IgnoreIndex, conv[^1]);
        int answer = e.Labels.Count(l => l != ChatTemplate.IgnoreIndex);
        Assert.Equal(3, answer); // 'x', 'y', <|end|>
        using var a = PairBatch.Build(f.Device, [e], Tok.Special, Tok.VocabSize, new JepaOptions { Labels = LabelReach.Answer }, false);
        using var c = PairBatch.Build(f.Device, [e], Tok.Special, Tok.VocabSize, new JepaOptions { Labels = LabelReach.Conversation }, false);
        Assert.Equal(answer, a.AnswerTokens);
        Assert.Equal(e.Full.Length - 1, c.AnswerTokens);
        Assert.Equal(conv, c.HostTargets);
    }

    [Fact]
    public void TextLabelsPutTheUserTurnAloneInTheLanguageModelBatch()
    {
        var e = new ChatTemplate(Tok).Encode(new PairExample("s", "ab", "xy"), 64);
        var f2 = new ChatTemplate(Tok).Encode(new PairExample(null, "abcd", "x"), 64);
        using var t = PairBatch.Build(f.Device, [e, f2], Tok.Special, Tok.VocabSize, new JepaOptions { Labels = LabelReach.Text }, false);
        // A chat layout's Text view: BOS, the user header, the message, the end of the turn; no system turn, no answer.
        int[] want0 = e.TextView, want1 = f2.TextView;
        Assert.Equal(want1.Length, t.Full.T);
        Assert.Equal((want0.Length - 1) + (want1.Length - 1), t.AnswerTokens);
        for (int i = 0; i + 1 < want0.Length; i++) Assert.Equal(want0[i + 1], t.HostTargets[i]);
        for (int i = want0.Length - 1; i < want1.Length; i++) Assert.Equal(ChatTemplate.IgnoreIndex, t.HostTargets[i]);
        for (int i = 0; i + 1 < want1.Length; i++) Assert.Equal(want1[i + 1], t.HostTargets[t.Full.T + i]);
        Assert.DoesNotContain((int)'x', t.HostTargets);
    }
}
