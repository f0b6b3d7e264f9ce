using Jepa.Core;

namespace Jepa.Training.Autograd;

public static partial class Functions
{
    /// <summary>
    /// Causal grouped-query attention: q [B, T, H, D], k and v [B, T, Hkv, D] → [B, T, H·D]. With
    /// <paramref name="segments"/> (32-bit ids [B·T]) attention is block-causal: a token sees only earlier
    /// tokens of its own segment. <paramref name="scale"/> (1/√D when null), <paramref name="softCap"/> (c·tanh(s / c) on the
    /// scores; 0: none) and <paramref name="window"/> (each token sees its last <paramref name="window"/> keys; 0: all) are
    /// <see cref="Jepa.Kernels.Attention.Forward"/>'s.
    /// </summary>
    public static Variable Attention(this Tape tape, Variable q, Variable k, Variable v, int B, int T, int H, int Hkv, int D, Tensor? segments,
        float? scale = null, float softCap = 0f, int window = 0)
    {
        if (q.Value.Length != (long)B * T * H * D || k.Value.Length != (long)B * T * Hkv * D || v.Value.Length != k.Value.Length)
            throw new ArgumentException($"Attention: q {q.Value.ShapeString}, k {k.Value.ShapeString}, v {v.Value.ShapeString} do not fit B={B}, T={T}, H={H}, Hkv={Hkv}, D={D}.");
        var seg = segments?.AsInt32() ?? default;
        var y = tape.Output(q.RequiresGrad || k.RequiresGrad || v.RequiresGrad, B * T, H * D);
        var lse = tape.Empty(B, H, T);
        tape.Ops.Attention.Forward(q.Value.View, k.Value.View, v.Value.View, y.Value.View, lse.View, B, T, H, Hkv, D, seg, scale, softCap, window);
        tape.Record(y, () =>
        {
            var dq = q.RequiresGrad ? tape.Grad(q).View : tape.Zeros(B * T, H * D).View;
            var dk = k.RequiresGrad ? tape.Grad(k).View : tape.Zeros(B * T, Hkv * D).View;
            var dv = v.RequiresGrad ? tape.Grad(v).View : tape.Zeros(B * T, Hkv * D).View;
            tape.Ops.Attention.Backward(y.Grad!.View, q.Value.View, k.Value.View, v.Value.View, y.Value.View, lse.View,
                dq, dk, dv, B, T, H, Hkv, D, seg, scale, softCap, window);
        });
        return y;
    }
}
