using Jepa.Tests.Support;
using Jepa.Training.Autograd;
using Jepa.Training.Model;
using Jepa.Training.Objective;

namespace Jepa.Tests.Training;

public sealed class ObjectiveTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private (float Jepa, float Lm, float[][] Grads) Run(LlamaModel model, JepaOptions o, Jepa.Training.Data.PairExample[] pairs)
    {
        model.ZeroGrad();
        using var batch = TinySetup.Batch(f.Ops, pairs, o);
        using var tape = new Tape(f.Ops);
        var (total, parts) = new JepaObjective(model, o).Forward(tape, batch, skipJepa: false);
        tape.Backward(total);
        return (parts.JepaLoss?.Value.ToArray()[0] ?? float.NaN, parts.LmLoss.Value.ToArray()[0],
            model.Parameters.Select(p => p.Grad!.ToArray()).ToArray());
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    public void SingleAndSeparateViewPassesGiveTheSameLossAndGradients(int k, bool reverse)
    {
        using var model = TinySetup.Model(f.Ops);
        var pairs = TinySetup.Pairs(3, 11);
        var o = new JepaOptions { Predictors = k, ReversePred = reverse };
        var sep = Run(model, o with { Views = ViewEncoding.Separate }, pairs);
        var one = Run(model, o with { Views = ViewEncoding.Single }, pairs);
        Assert.InRange(Math.Abs(sep.Jepa - one.Jepa), 0, 1e-5);
        Assert.Equal(sep.Lm, one.Lm);
        for (int i = 0; i < sep.Grads.Length; i++)
            Reference.AssertClose(one.Grads[i], Reference.ToDouble(sep.Grads[i]), 1e-4, model.Parameters[i].Name);
    }

    [Fact]
    public void WithoutPredictorTokensPredIsTheIdentity()
    {
        using var model = TinySetup.Model(f.Ops);
        var pairs = TinySetup.Pairs(3, 12);
        var o = new JepaOptions { Predictors = 0 };
        var (jepa, _, _) = Run(model, o, pairs);
        // 1 − cos of the hidden states at each view's last content token ('a…' and its reverse), each view encoded alone.
        var tpl = new Jepa.Training.Tokenization.ChatTemplate(TinySetup.Tokenizer);
        double sum = 0;
        foreach (var p in pairs)
        {
            var e = tpl.Encode(p, 64);
            float[] LastContent(int[] ids)
            {
                using var b = new SequenceBatch(f.Device, 1, ids.Length, ids, model.Config.VocabSize);
                using var tape = new Tape(f.Ops);
                var h = model.Forward(tape, b).Value.ToArray();
                int at = ids.Length - 2; // the token before <|end|>
                return h[(at * model.Config.DModel)..((at + 1) * model.Config.DModel)];
            }
            float[] a = LastContent(e.TextView), c = LastContent(e.CodeView);
            double dot = 0, na = 0, nc = 0;
            for (int i = 0; i < a.Length; i++) { dot += a[i] * c[i]; na += a[i] * a[i]; nc += c[i] * c[i]; }
            sum += 1 - dot / Math.Sqrt(na * nc);
        }
        Assert.InRange(Math.Abs(jepa - sum / pairs.Length), 0, 2e-6);
    }

    [Fact]
    public void WholeModelGradientMatchesFiniteDifferences()
    {
        var config = TinySetup.Config(d: 8, layers: 2, heads: 2, kv: 1, ffn: 12);
        using var model = TinySetup.Model(f.Ops, 3, config);
        var pairs = TinySetup.Pairs(2, 13);
        var o = new JepaOptions { Predictors = 1, Lambda = 2f, Gamma = 1f };
        var (_, _, grads) = Run(model, o, pairs);
        float Loss()
        {
            using var batch = TinySetup.Batch(f.Ops, pairs, o);
            using var tape = new Tape(f.Ops);
            var (total, _) = new JepaObjective(model, o).Forward(tape, batch, false);
            return total.Value.ToArray()[0];
        }
        const float h = 1e-3f;
        int checkedEntries = 0;
        for (int pi = 0; pi < model.Parameters.Count; pi++)
        {
            var p = model.Parameters[pi];
            var w = p.Value.ToArray();
            // the two largest-gradient entries of each tensor: well above float32 finite-difference noise
            foreach (int i in Enumerable.Range(0, w.Length).OrderByDescending(i => Math.Abs(grads[pi][i])).Take(2))
            {
                float keep = w[i];
                w[i] = keep + h; p.Value.CopyFrom(w); float up = Loss();
                w[i] = keep - h; p.Value.CopyFrom(w); float down = Loss();
                w[i] = keep; p.Value.CopyFrom(w);
                double numeric = (up - down) / (2.0 * h);
                double err = Math.Abs(numeric - grads[pi][i]) / Math.Max(Math.Abs(numeric), 0.1);
                Assert.True(err < 2e-2, $"{p.Name}[{i}]: analytic {grads[pi][i]:G6}, numeric {numeric:G6}");
                checkedEntries++;
            }
        }
        Assert.Equal(model.Parameters.Count * 2, checkedEntries);
    }
}
