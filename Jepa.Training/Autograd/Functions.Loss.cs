using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Training.Autograd;

public static partial class Functions
{
    private static float UpstreamScalar(Variable loss, string op) =>
        loss.HostGrad ?? throw new InvalidOperationException(
            $"{op}: the loss must be backpropagated directly or through Combine (host-weighted sums), so its gradient is known on the host.");

    /// <summary>
    /// Σ wᵢ·lossᵢ of scalar losses with host weights (the objective's γ and λ). Gradients pass on the host:
    /// d(total)/d(lossᵢ) = wᵢ · d(total)/d(result).
    /// </summary>
    public static Variable Combine(this Tape tape, params (float Weight, Variable Loss)[] terms)
    {
        foreach (var (_, v) in terms)
            if (v.Value.Length != 1) throw new ArgumentException($"Combine: {v} is not a scalar.");
        var y = tape.Output(terms.Any(t => t.Loss.RequiresGrad), 1);
        tape.Ops.Elementwise.Fill(0f, y.Value.View, 1);
        foreach (var (w, v) in terms) tape.Ops.Elementwise.Axpy(w, v.Value.View, y.Value.View, 1);
        tape.Record(y, () =>
        {
            float up = UpstreamScalar(y, "Combine");
            foreach (var (w, v) in terms)
                if (v.RequiresGrad) v.HostGrad = (v.HostGrad ?? 0f) + w * up;
        });
        return y;
    }

    /// <summary>
    /// Mean next-token cross-entropy of logits [N, V] against <paramref name="targets"/> (32-bit ids, [N];
    /// <see cref="CrossEntropy.DefaultIgnoreIndex"/> rows do not count), fused with log-softmax. Scalar.
    /// </summary>
    public static Variable CrossEntropy(this Tape tape, Variable logits, Tensor targets, int[] hostTargets)
    {
        int N = logits.Shape[0], V = logits.Shape[1];
        if (targets.Length != N || hostTargets.Length != N)
            throw new ArgumentException($"CrossEntropy: logits have {N} rows but targets have {targets.Length} (host {hostTargets.Length}).");
        int count = Kernels.CrossEntropy.CountTargets(hostTargets, V);
        var losses = tape.Empty(N);
        var lse = tape.Empty(N);
        var y = tape.Output(logits.RequiresGrad, 1);
        tape.Ops.CrossEntropy.ForwardMean(logits.Value.View, targets.AsInt32(), losses.View, lse.View, y.Value.View, N, V, count);
        tape.Record(y, () =>
            tape.Ops.CrossEntropy.Backward(logits.Value.View, targets.AsInt32(), lse.View, tape.Grad(logits).View, N, V, count,
                UpstreamScalar(y, "CrossEntropy")));
        return y;
    }

    /// <summary>
    /// The JEPA distance between predicted [B, C] and target [B, C] embeddings (batch mean). With
    /// <paramref name="stopTargetGradient"/> no gradient flows into the target.
    /// </summary>
    public static Variable JepaDistance(this Tape tape, Variable predicted, Variable target, JepaDistanceKind kind,
        float temperature = Kernels.JepaDistance.DefaultTemperature, bool stopTargetGradient = false)
    {
        int B = predicted.Shape[0], C = predicted.Shape[1];
        if (target.Shape.Count != 2 || target.Shape[0] != B || target.Shape[1] != C)
            throw new ArgumentException($"JepaDistance: predicted {predicted.Value.ShapeString} and target {target.Value.ShapeString} differ.");
        var pairs = tape.Empty(B);
        bool targetGrad = target.RequiresGrad && !stopTargetGradient;
        var y = tape.Output(predicted.RequiresGrad || targetGrad, 1);
        tape.Ops.JepaDistance.Forward(kind, predicted.Value.View, target.Value.View, pairs.View, y.Value.View, B, C, temperature);
        tape.Record(y, () =>
        {
            float up = UpstreamScalar(y, "JepaDistance");
            var dp = predicted.RequiresGrad ? tape.Grad(predicted).View : tape.Empty(B, C).View;
            var dt = targetGrad ? tape.Grad(target).View : default;
            tape.Ops.JepaDistance.Backward(kind, predicted.Value.View, target.Value.View, dp, dt, B, C, up, temperature);
        });
        return y;
    }

    /// <summary>Per-pair cosine similarity of two [B, C] embeddings (no gradient), for logging.</summary>
    public static Tensor PairCosine(this Tape tape, Variable a, Variable b)
    {
        int B = a.Shape[0], C = a.Shape[1];
        var cos = tape.Empty(B);
        tape.Ops.JepaDistance.CosineSimilarity(a.Value.View, b.Value.View, cos.View, B, C);
        return cos;
    }

    /// <summary>Token embedding: rows of <paramref name="weight"/> [V, C] picked by 32-bit ids [N] → [N, C].</summary>
    public static Variable Embedding(this Tape tape, Parameter weight, Tensor tokens, int[] hostTokens)
    {
        int V = weight.Shape[0], C = weight.Shape[1], N = checked((int)tokens.Length);
        var y = tape.Output(weight.RequiresGrad, N, C);
        tape.Ops.Embedding.Forward(tokens.AsInt32(), weight.Value.View, y.Value.View, N, V, C);
        if (y.RequiresGrad)
        {
            var index = tape.Own(new EmbeddingGradIndex(tape.Device));
            index.Build(hostTokens, V);
            tape.Record(y, () => tape.Ops.Embedding.Backward(y.Grad!.View, index, weight.Grad!.View, N, V, C));
        }
        else
        {
            EmbeddingGradIndex.Validate(hostTokens, V);
        }
        return y;
    }

    /// <summary>Rows of x [N, C] at <paramref name="rows"/> → [R, C] (the embedding gather, reused); gradients scatter back.</summary>
    public static Variable GatherRows(this Tape tape, Variable x, int[] rows)
    {
        int N = x.Shape[0], C = x.Shape[1], R = rows.Length;
        var ids = tape.Own(Tensor.FromInt32(tape.Device, rows, R));
        var y = tape.Output(x.RequiresGrad, R, C);
        EmbeddingGradIndex.Validate(rows, N);
        tape.Ops.Embedding.Forward(ids.AsInt32(), x.Value.View, y.Value.View, R, N, C);
        if (y.RequiresGrad)
        {
            var index = tape.Own(new EmbeddingGradIndex(tape.Device));
            index.Build(rows, N);
            tape.Record(y, () => tape.Ops.Embedding.Backward(y.Grad!.View, index, tape.Grad(x).View, R, N, C));
        }
        return y;
    }

    /// <summary>Row b of the result [B, C] is the mean of rows [offsets[b], offsets[b + 1]) of x [R, C] (see <see cref="Kernels.SegmentMean"/>).</summary>
    public static Variable SegmentMean(this Tape tape, Variable x, int[] offsets)
    {
        int R = x.Shape[0], C = x.Shape[1], B = offsets.Length - 1;
        Kernels.SegmentMean.Validate(offsets, R);
        var o = tape.Own(Tensor.FromInt32(tape.Device, offsets, offsets.Length));
        var y = tape.Output(x.RequiresGrad, B, C);
        tape.Ops.SegmentMean.Forward(x.Value.View, o.AsInt32(), y.Value.View, R, B, C);
        if (y.RequiresGrad) tape.Record(y, () => tape.Ops.SegmentMean.Backward(y.Grad!.View, o.AsInt32(), tape.Grad(x).View, R, B, C));
        return y;
    }

    /// <summary>x [N, C] minus its column means (see <see cref="Kernels.CenterRows"/>).</summary>
    public static Variable CenterRows(this Tape tape, Variable x)
    {
        int N = x.Shape[0], C = x.Shape[1];
        var y = tape.Output(x.RequiresGrad, N, C);
        tape.Ops.CenterRows.Forward(x.Value.View, y.Value.View, N, C);
        if (y.RequiresGrad) tape.Record(y, () => tape.Ops.CenterRows.Backward(y.Grad!.View, tape.Grad(x).View, N, C));
        return y;
    }
}
