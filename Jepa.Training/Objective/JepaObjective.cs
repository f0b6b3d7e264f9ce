using Jepa.Core;
using Jepa.Training.Autograd;
using Jepa.Training.Model;

namespace Jepa.Training.Objective;

/// <summary>The values one forward/backward of the objective produced, still on the device until read.</summary>
/// <param name="LmLoss">The next-token loss (scalar).</param>
/// <param name="JepaLoss">The JEPA distance (scalar), or null when skipped.</param>
/// <param name="Predicted">Predicted embeddings [B, C], or null.</param>
/// <param name="Target">Target embeddings [B, C], or null.</param>
/// <param name="Tokens">Non-padding tokens processed.</param>
/// <param name="SigRegLoss">The SIGReg term (mean over the two views), or null when off or skipped.</param>
/// <param name="VicRegLoss">The VICReg-style term (mean over the two views), or null when off or skipped.</param>
public sealed record ObjectiveOutput(Variable LmLoss, Variable? JepaLoss, Variable? Predicted, Variable? Target, int Tokens,
    Variable? SigRegLoss = null, Variable? VicRegLoss = null);

/// <summary>
/// L = γ·L_LLM + λ·d(Pred(Enc(Text)), Enc(Code)) for one batch, on a tape: the full sequence's
/// next-token loss, plus — unless λ = 0 or the step is dropped — the view embeddings from separate passes
/// or one block-causal pass, the predictor tokens' hidden state as Pred(Enc(·)), and the distance; plus, when on, the
/// anti-collapse regularisers on each view's embeddings: β·SIGReg and the VICReg-style variance/covariance term.
/// </summary>
public sealed class JepaObjective
{
    /// <summary>Binds the objective to a model and its options; <paramref name="target"/> is the EMA target encoder, if any.</summary>
    public JepaObjective(LlamaModel model, JepaOptions options, LlamaModel? target = null)
    {
        Model = model;
        Options = options;
        TargetModel = target;
        if (options.Target == TargetEncoder.Ema && target is null)
            throw new ArgumentException("The EMA target encoder needs a target model.", nameof(target));
    }

    /// <summary>The trained model.</summary>
    public LlamaModel Model { get; }

    /// <summary>The objective's options.</summary>
    public JepaOptions Options { get; }

    /// <summary>The EMA target encoder, or null.</summary>
    public LlamaModel? TargetModel { get; }

    /// <summary>Runs the forward passes on <paramref name="tape"/> and returns the total loss and its parts.
    /// <paramref name="jepaScale"/> multiplies λ and the regularisers' weights (the λ warm-up).</summary>
    public (Variable Total, ObjectiveOutput Parts) Forward(Tape tape, PairBatch batch, bool skipJepa, float jepaScale = 1f)
    {
        var o = Options;
        var hidden = Model.Forward(tape, batch.Full);
        var logits = Model.Logits(tape, hidden);
        var lm = tape.CrossEntropy(logits, batch.Targets, batch.HostTargets);
        if (!o.UsesJepa || skipJepa || (batch.Text is null && batch.Packed is null))
            return (tape.Combine((o.Gamma, lm)), new ObjectiveOutput(lm, null, null, null, batch.RealTokens));

        Variable eText, eCode;
        bool targetIsCode = !o.ReversePred;
        var targetModel = o.Target == TargetEncoder.Ema ? TargetModel! : Model;
        if (batch.Packed is { } packed)
        {
            var h = Model.Forward(tape, packed);
            var ht = targetModel == Model ? h : targetModel.Forward(tape, packed);
            eText = Embed(tape, targetIsCode ? h : ht, batch.TextRows);
            eCode = Embed(tape, targetIsCode ? ht : h, batch.CodeRows);
        }
        else
        {
            var text = targetIsCode ? Model : targetModel;
            var code = targetIsCode ? targetModel : Model;
            eText = Embed(tape, text.Forward(tape, batch.Text!), batch.TextRows);
            eCode = Embed(tape, code.Forward(tape, batch.Code!), batch.CodeRows);
        }
        var (pred, target) = o.ReversePred ? (eCode, eText) : (eText, eCode);
        var jepa = o.Center
            ? tape.JepaDistance(tape.CenterRows(pred), tape.CenterRows(target), o.Distance, o.Temperature, stopTargetGradient: o.Target != TargetEncoder.Shared)
            : tape.JepaDistance(pred, target, o.Distance, o.Temperature, stopTargetGradient: o.Target != TargetEncoder.Shared);
        var terms = new List<(float, Variable)> { (o.Gamma, lm), (o.Lambda * jepaScale, jepa) };
        Variable? sig = null, vic = null;
        if (o.SigReg > 0)
        {
            sig = tape.Combine((0.5f, tape.SigReg(pred, o.SigRegSlices)), (0.5f, tape.SigReg(TargetForRegularizer(tape, target), o.SigRegSlices)));
            terms.Add((o.SigReg * jepaScale, sig));
        }
        if (o.VicReg > 0)
        {
            vic = tape.Combine((0.5f, tape.VicReg(pred)), (0.5f, tape.VicReg(TargetForRegularizer(tape, target))));
            terms.Add((o.VicReg * jepaScale, vic));
        }
        return (tape.Combine([.. terms]), new ObjectiveOutput(lm, jepa, pred, target, batch.RealTokens, sig, vic));
    }

    /// <summary>The view embeddings [B, C] from hidden states [B·T, C]: the state at each example's row, or the mean over its rows.</summary>
    private static Variable Embed(Tape tape, Variable hidden, ViewRows rows)
    {
        var gathered = tape.GatherRows(hidden, rows.Rows);
        return rows.Offsets is { } offsets ? tape.SegmentMean(gathered, offsets) : gathered;
    }

    /// <summary>The target embeddings as the regularisers see them: with a stop-gradient or EMA target, a constant copy.</summary>
    private Variable TargetForRegularizer(Tape tape, Variable target)
    {
        if (Options.Target == TargetEncoder.Shared || !target.RequiresGrad) return target;
        var copy = tape.Empty(target.Shape.ToArray());
        Model.Ops.Elementwise.Copy(target.Value.View, copy.View, checked((int)copy.Length));
        return tape.Input(copy);
    }
}
