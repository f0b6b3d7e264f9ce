using Jepa.Training.Data;
using Jepa.Training.Objective;
using Jepa.Training.Tokenization;

namespace Jepa.Tests.Tokenization;

/// <summary>The paper's <c>--plain</c> layout: ids, labels, views and the token each view is embedded at.</summary>
public sealed class PlainFormatTests
{
    private static readonly ByteTokenizer Tokenizer = new(predictorTokens: 2);
    private const int Bos = 257, Assistant = 261, End = 262, Pred1 = 263, Pred2 = 264, Ignore = ChatTemplate.IgnoreIndex;
    private const int h = 'h', i = 'i', O = 'O', K = 'K';

    [Fact]
    public void APlainExampleIsTheMessagesJoinedBySeparatorWithoutHeadersOrSystemPrompt()
    {
        var template = new ChatTemplate(Tokenizer, ChatFormat.PlainJepa);
        Assert.Equal([Bos, Assistant, End, Pred1, Pred2], (int[])[Tokenizer.AddedTokens["<|bos|>"], Tokenizer.AddedTokens["<|assistant|>"],
            Tokenizer.AddedTokens["<|end|>"], Tokenizer.Special.Predictors[0], Tokenizer.Special.Predictors[1]]);
        var e = template.Encode(new PairExample("be brief", "hi", "OK"), maxLength: 64);

        // The paper's messages[1] + "<|perception|>" + messages[2] + "<|eot_id|>" after BOS; the system prompt is dropped.
        Assert.Equal([Bos, h, i, Assistant, O, K, End], e.Full);
        Assert.Equal([Ignore, Ignore, Ignore, O, K, End, Ignore], e.Labels);
        Assert.Equal([h, i, Assistant, O, K, End, Ignore], e.ConversationLabels());
        // Generation continues BOS, the message and the separator (the paper's evaluate.py plain prompt).
        Assert.Equal([Bos, h, i, Assistant], template.Prompt("be brief", "hi"));
        Assert.Equal(template.Prompt(null, "hi"), template.Prompt("be brief", "hi"));
        // Each view is BOS and its message alone.
        Assert.Equal([Bos, h, i], e.TextView);
        Assert.Equal([Bos, O, K], e.CodeView);
        Assert.False(e.Truncated);
    }

    [Fact]
    public void TextLabelsTrainTheMessageAloneAsThePapersPlainTrainAll()
    {
        var e = new ChatTemplate(Tokenizer, ChatFormat.PlainJepa).Encode(new PairExample("be brief", "hi", "OK"), maxLength: 64);
        // finetune.py --plain --train_all: messages[1] + "<|eot_id|>" after BOS, every next token labelled; no answer.
        var (ids, labels) = e.LanguageModelSequence(LabelReach.Text);
        Assert.Equal([Bos, h, i, End], ids);
        Assert.Equal([h, i, End, Ignore], labels);
        Assert.Equal((e.Full, e.Labels), e.LanguageModelSequence(LabelReach.Answer));
        Assert.Equal(e.ConversationLabels(), e.LanguageModelSequence(LabelReach.Conversation).Labels);
        // The views are unchanged: the answer is seen only as the Code view.
        Assert.Equal([Bos, h, i], e.TextView);
        Assert.Equal([Bos, O, K], e.CodeView);
        // Cut to 4 tokens, the message loses its end first and the end-of-turn token stays.
        var cut = new ChatTemplate(Tokenizer, ChatFormat.PlainJepa).Encode(new PairExample(null, "hi!!", "OK"), maxLength: 4);
        Assert.Equal([Bos, h, i, End], cut.LanguageModelSequence(LabelReach.Text).Ids);
        Assert.True(cut.Truncated);
    }

    [Fact]
    public void PlainViewsAreEmbeddedAfterThePredictorsAndAtTheLastAnswerToken()
    {
        var e = new ChatTemplate(Tokenizer, ChatFormat.PlainJepa).Encode(new PairExample(null, "hi", "OK"), maxLength: 64);
        var options = new JepaOptions { Predictors = 2 };
        var text = options.LayOut(e.Text, isText: true, Tokenizer.Special.Predictors, 64, "text");
        var code = options.LayOut(e.Code, isText: false, Tokenizer.Special.Predictors, 64, "code");
        Assert.Equal([Bos, h, i, Pred1, Pred2], text.Ids); // the paper appends the predictors to the message
        Assert.Equal((4, 1), (text.At, text.Count));
        Assert.Equal([Bos, O, K], code.Ids);
        Assert.Equal((2, 1), (code.At, code.Count));
        var paper = options with { LastTokenOffset = -2 }; // run.sh's last_token = -2
        Assert.Equal(3, paper.LayOut(e.Text, true, Tokenizer.Special.Predictors, 64, "text").At);
        Assert.Equal(1, paper.LayOut(e.Code, false, Tokenizer.Special.Predictors, 64, "code").At);
    }

    [Fact]
    public void ThePlainFlagRoundTripsThroughJsonAndAPlainFormatHasNoHeaders()
    {
        var plain = ChatFormat.Parse(ChatFormat.PlainJepa.ToJson(), "plain.json");
        Assert.True(plain.Plain);
        Assert.Equal(ChatFormat.PlainJepa, plain);
        Assert.NotEqual(ChatFormat.PlainJepa, ChatFormat.PlainJepa with { Plain = false });
        Assert.DoesNotContain("plain", ChatFormat.Jepa.ToJson());
        Assert.Same(ChatFormat.PlainJepa, ChatFormat.Resolve("plain"));
        var e = Assert.Throws<InvalidDataException>(() => (ChatFormat.PlainJepa with { User = "<|user|>{content}" }).Validate("f.json"));
        Assert.Contains("a plain format has no role headers", e.Message);
        var notBool = ChatFormat.PlainJepa.ToJson().Replace("\"plain\": true", "\"plain\": \"yes\"", StringComparison.Ordinal);
        Assert.Contains("field \"plain\" must be true or false", Assert.Throws<InvalidDataException>(() => ChatFormat.Parse(notBool, "f.json")).Message);
    }
}
