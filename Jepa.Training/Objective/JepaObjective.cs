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
public sealed record ObjectiveOutput(Variable LmLoss, Variable? JepaLoss, Variable? Predicted, Variable? Target, int Tokens);

/// <summary>
/// L = γ·L_LLM + λ·d(Pred(Enc(Text)), Enc(Code)) for one batch, on a tape: the full sequence's
/// next-token loss, plus — unless λ = 0 or the step is dropped — the view embeddings from separate passes
/// or one block-causal pass, the predictor tokens' hidden state as Pred(Enc(·)), and the distance.
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

    /// <summary>Runs the forward passes on <paramref name="tape"/> and returns the total loss and its parts.</summary>
    public (Variable Total, ObjectiveOutput Parts) Forward(Tape tape, PairBatch batch, bool skipJepa)
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
            eText = tape.GatherRows(targetIsCode ? h : ht, batch.TextRows);
            eCode = tape.GatherRows(targetIsCode ? ht : h, batch.CodeRows);
        }
        else
        {
            var text = targetIsCode ? Model : targetModel;
            var code = targetIsCode ? targetModel : Model;
            eText = tape.GatherRows(text.Forward(tape, batch.Text!), batch.TextRows);
            eCode = tape.GatherRows(code.Forward(tape, batch.Code!), batch.CodeRows);
        }
        var (pred, target) = o.ReversePred ? (eCode, eText) : (eText, eCode);
        var jepa = tape.JepaDistance(pred, target, o.Distance, o.Temperature, stopTargetGradient: o.Target != TargetEncoder.Shared);
        return (tape.Combine((o.Gamma, lm), (o.Lambda, jepa)), new ObjectiveOutput(lm, jepa, pred, target, batch.RealTokens));
    }
}
