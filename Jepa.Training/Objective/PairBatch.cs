using Jepa.Core;
using Jepa.Training.Model;
using Jepa.Training.Tokenization;

namespace Jepa.Training.Objective;

/// <summary>
/// One training batch of pair examples, laid out for the objective: the full chat sequences with their
/// next-token targets, and the two views — either as two separate batches, or packed into one batch of
/// [Text+PRED ‖ Code] rows with segment ids and positions restarting in each view. The row index of each
/// view's embedding token (within the flattened [B·T] hidden states) comes with it.
/// </summary>
public sealed class PairBatch : IDisposable
{
    private PairBatch(SequenceBatch full, Tensor targets, int[] hostTargets, int answerTokens,
        SequenceBatch? text, SequenceBatch? code, SequenceBatch? packed, ViewRows textRows, ViewRows codeRows, int realTokens)
    {
        Full = full; Targets = targets; HostTargets = hostTargets; AnswerTokens = answerTokens;
        Text = text; Code = code; Packed = packed; TextRows = textRows; CodeRows = codeRows; RealTokens = realTokens;
    }

    /// <summary>The full sequences.</summary>
    public SequenceBatch Full { get; }

    /// <summary>Next-token targets of <see cref="Full"/> ([B·T], ignore index outside the answers).</summary>
    public Tensor Targets { get; }

    /// <summary>Host copy of <see cref="Targets"/>.</summary>
    public int[] HostTargets { get; }

    /// <summary>Number of labelled (answer) tokens.</summary>
    public int AnswerTokens { get; }

    /// <summary>Non-padding tokens over every sequence the step processes.</summary>
    public int RealTokens { get; }

    /// <summary>The Text views (+PRED unless reverse-pred), with separate view passes; else null.</summary>
    public SequenceBatch? Text { get; }

    /// <summary>The Code views (+PRED with reverse-pred), with separate view passes; else null.</summary>
    public SequenceBatch? Code { get; }

    /// <summary>The packed [Text+PRED ‖ Code] rows, with a single view pass; else null.</summary>
    public SequenceBatch? Packed { get; }

    /// <summary>The rows of each example's Text embedding tokens in the flattened hidden states of its view batch.</summary>
    public ViewRows TextRows { get; }

    /// <summary>The rows of each example's Code embedding tokens in the flattened hidden states of its view batch.</summary>
    public ViewRows CodeRows { get; }

    /// <summary>Lays out <paramref name="examples"/> for <paramref name="options"/>; views are built only when
    /// <paramref name="withViews"/>. A view with its predictor tokens is cut (its message's end first) to <paramref name="maxLength"/>.</summary>
    public static PairBatch Build(Device device, IReadOnlyList<EncodedPair> examples, SpecialTokens special, int vocab, JepaOptions options, bool withViews,
        int maxLength = int.MaxValue)
    {
        int B = examples.Count;
        if (B == 0) throw new ArgumentException("A batch needs at least one example.");
        int pad = special.Pad;
        var sequences = examples.Select(e => e.LanguageModelSequence(options.Labels)).ToArray();
        int tFull = sequences.Max(s => s.Ids.Length);
        var tokens = new int[B * tFull];
        var targets = new int[B * tFull];
        Array.Fill(tokens, pad);
        Array.Fill(targets, ChatTemplate.IgnoreIndex);
        int answers = 0, real = 0;
        for (int b = 0; b < B; b++)
        {
            var (ids, labels) = sequences[b];
            ids.CopyTo(tokens, b * tFull);
            labels.CopyTo(targets, b * tFull);
            answers += labels.Count(l => l != ChatTemplate.IgnoreIndex);
            real += ids.Length;
        }
        var full = new SequenceBatch(device, B, tFull, tokens, vocab);
        var tTargets = Tensor.FromInt32(device, targets, B * tFull);
        if (!withViews)
            return new PairBatch(full, tTargets, targets, answers, null, null, null, ViewRows.None, ViewRows.None, real);

        var texts = new int[B][];
        var codes = new int[B][];
        var textAt = new (int At, int Count)[B];
        var codeAt = new (int At, int Count)[B];
        for (int b = 0; b < B; b++)
        {
            var t = options.LayOut(examples[b].Text, isText: true, special.Predictors, maxLength, $"Example {b}: its Text view");
            var c = options.LayOut(examples[b].Code, isText: false, special.Predictors, maxLength, $"Example {b}: its Code view");
            (texts[b], textAt[b]) = (t.Ids, (t.At, t.Count));
            (codes[b], codeAt[b]) = (c.Ids, (c.At, c.Count));
        }
        var textStart = new int[B];
        var codeStart = new int[B];
        foreach (var s in texts.Concat(codes)) real += s.Length;
        if (options.Views == ViewEncoding.Separate)
        {
            var text = Pack(device, texts, pad, vocab, out int tt);
            var code = Pack(device, codes, pad, vocab, out int tc);
            for (int b = 0; b < B; b++)
            {
                textStart[b] = b * tt;
                codeStart[b] = b * tc;
            }
            return new PairBatch(full, tTargets, targets, answers, text, code, null,
                ViewRows.Of(textStart, textAt), ViewRows.Of(codeStart, codeAt), real);
        }
        int tp = Enumerable.Range(0, B).Max(b => texts[b].Length + codes[b].Length);
        var pt = new int[B * tp];
        var pos = new int[B * tp];
        var seg = new int[B * tp];
        Array.Fill(pt, pad);
        for (int b = 0; b < B; b++)
        {
            int a = texts[b].Length, c = codes[b].Length, o = b * tp;
            texts[b].CopyTo(pt, o);
            codes[b].CopyTo(pt, o + a);
            for (int i = 0; i < tp; i++)
            {
                seg[o + i] = i < a ? 0 : i < a + c ? 1 : 2;
                pos[o + i] = i < a ? i : i < a + c ? i - a : i - a - c;
            }
            textStart[b] = o;
            codeStart[b] = o + a;
        }
        var packed = new SequenceBatch(device, B, tp, pt, vocab, pos, seg);
        return new PairBatch(full, tTargets, targets, answers, null, null, packed,
            ViewRows.Of(textStart, textAt), ViewRows.Of(codeStart, codeAt), real);
    }

    private static SequenceBatch Pack(Device device, int[][] rows, int pad, int vocab, out int t)
    {
        t = rows.Max(r => r.Length);
        var ids = new int[rows.Length * t];
        Array.Fill(ids, pad);
        for (int b = 0; b < rows.Length; b++) rows[b].CopyTo(ids, b * t);
        return new SequenceBatch(device, rows.Length, t, ids, vocab);
    }

    /// <summary>Returns every device buffer to the pool.</summary>
    public void Dispose()
    {
        Full.Dispose();
        Targets.Dispose();
        Text?.Dispose();
        Code?.Dispose();
        Packed?.Dispose();
    }
}
