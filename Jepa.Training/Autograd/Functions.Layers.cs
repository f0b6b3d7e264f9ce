using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Training.Autograd;

public static partial class Functions
{
    /// <summary>A linear layer without bias: x [N, In] · Wᵀ with W [Out, In] (Hugging Face layout) → [N, Out].</summary>
    public static Variable Linear(this Tape tape, Variable x, Variable w) => tape.Linear(x, w, null);

    /// <summary>x · wᵀ + b for x [.., in], w [out, in] and bias b [out] (null: none; the bias is added in place).</summary>
    public static Variable Linear(this Tape tape, Variable x, Variable w, Variable? b)
    {
        int k = x.Shape[^1], m = w.Shape[0];
        if (w.Shape.Count != 2 || w.Shape[1] != k)
            throw new ArgumentException($"Linear: input {x.Value.ShapeString} does not match weight {w.Value.ShapeString} ({w.Name}); the weight must be [out, {k}].");
        if (b is not null && (b.Shape.Count != 1 || b.Shape[0] != m))
            throw new ArgumentException($"Linear: bias {b.Value.ShapeString} ({b.Name}) does not match weight {w.Value.ShapeString} ({w.Name}); it must be [{m}].");
        int rows = checked((int)(x.Value.Length / k));
        var y = tape.Output(x.RequiresGrad || w.RequiresGrad || b is { RequiresGrad: true }, rows, m);
        tape.Ops.MatMul.Forward(MatMulForm.NT, x.Value.View, w.Value.View, y.Value.View, rows, m, k);
        if (b is not null) tape.Ops.Elementwise.Bias(y.Value.View, b.Value.View, y.Value.View, rows, m);
        tape.Record(y, () =>
        {
            if (b is { RequiresGrad: true }) tape.Ops.Elementwise.BiasGrad(y.Grad!.View, tape.Grad(b).View, rows, m);
            if (x.RequiresGrad) tape.Ops.MatMul.BackwardA(MatMulForm.NT, y.Grad!.View, w.Value.View, tape.Grad(x).View, rows, m, k);
            if (w.RequiresGrad) tape.Ops.MatMul.BackwardB(MatMulForm.NT, y.Grad!.View, x.Value.View, tape.Grad(w).View, rows, m, k);
        });
        return y;
    }

    /// <summary>
    /// A linear layer with a LoRA update, fused so the update adds no [rows, out] activation: y = x·wᵀ + s·(xa·loraBᵀ) (+ b),
    /// for x [.., in], w [out, in], the adapter's down-projection xa = dropout(x)·Aᵀ [rows, r], loraB [out, r] and bias b [out]
    /// (null: none). Gradients flow to every input that requires one (dxa and dB scaled by s).
    /// </summary>
    public static Variable LoraLinear(this Tape tape, Variable x, Variable w, Variable? b, Variable xa, Variable loraB, float s)
    {
        int k = x.Shape[^1], m = w.Shape[0], r = loraB.Shape[^1];
        if (w.Shape.Count != 2 || w.Shape[1] != k)
            throw new ArgumentException($"LoraLinear: input {x.Value.ShapeString} does not match weight {w.Value.ShapeString} ({w.Name}); the weight must be [out, {k}].");
        if (b is not null && (b.Shape.Count != 1 || b.Shape[0] != m))
            throw new ArgumentException($"LoraLinear: bias {b.Value.ShapeString} ({b.Name}) does not match weight {w.Value.ShapeString} ({w.Name}); it must be [{m}].");
        int rows = checked((int)(x.Value.Length / k));
        if (loraB.Shape.Count != 2 || loraB.Shape[0] != m || xa.Value.Length != (long)rows * r)
            throw new ArgumentException($"LoraLinear: adapter input {xa.Value.ShapeString} and B {loraB.Value.ShapeString} ({loraB.Name}) do not fit [{rows}, r] and [{m}, r].");
        var y = tape.Output(x.RequiresGrad || w.RequiresGrad || b is { RequiresGrad: true } || xa.RequiresGrad || loraB.RequiresGrad, rows, m);
        var mm = tape.Ops.MatMul;
        mm.Forward(MatMulForm.NT, x.Value.View, w.Value.View, y.Value.View, rows, m, k);
        mm.Forward(MatMulForm.NT, xa.Value.View, loraB.Value.View, y.Value.View, rows, m, r, alpha: s, beta: 1f);
        if (b is not null) tape.Ops.Elementwise.Bias(y.Value.View, b.Value.View, y.Value.View, rows, m);
        tape.Record(y, () =>
        {
            var dy = y.Grad!.View;
            if (b is { RequiresGrad: true }) tape.Ops.Elementwise.BiasGrad(dy, tape.Grad(b).View, rows, m);
            if (x.RequiresGrad) mm.BackwardA(MatMulForm.NT, dy, w.Value.View, tape.Grad(x).View, rows, m, k);
            if (w.RequiresGrad) mm.BackwardB(MatMulForm.NT, dy, x.Value.View, tape.Grad(w).View, rows, m, k);
            if (xa.RequiresGrad) mm.BackwardA(MatMulForm.NT, dy, loraB.Value.View, tape.Grad(xa).View, rows, m, r, alpha: s);
            if (loraB.RequiresGrad) mm.BackwardB(MatMulForm.NT, dy, xa.Value.View, tape.Grad(loraB).View, rows, m, r, alpha: s);
        });
        return y;
    }

    /// <summary>RMSNorm over the last dimension: x / √(mean(x²) + ε) ⊙ w.</summary>
    public static Variable RmsNorm(this Tape tape, Variable x, Variable w, float eps)
    {
        int c = w.Shape[0];
        if (x.Shape[^1] != c) throw new ArgumentException($"RmsNorm: input {x.Value.ShapeString} does not end in the weight's width {c} ({w.Name}).");
        return RmsNormRows(tape, x, w, eps);
    }

    /// <summary>RMSNorm of each head: x [rows, H·D] is read as [rows·H, D] rows, each normalised as
    /// x / √(mean(x²) + ε) ⊙ w with one gain w [D] shared by every head (Qwen3's q_norm and k_norm).</summary>
    public static Variable HeadRmsNorm(this Tape tape, Variable x, Variable w, float eps)
    {
        int d = w.Shape[0];
        if (x.Shape[^1] % d != 0) throw new ArgumentException($"HeadRmsNorm: input {x.Value.ShapeString} is not a whole number of heads of the weight's width {d} ({w.Name}).");
        return RmsNormRows(tape, x, w, eps);
    }

    /// <summary>RMSNorm over consecutive rows of the weight's width (the caller has checked that they tile x).</summary>
    private static Variable RmsNormRows(Tape tape, Variable x, Variable w, float eps)
    {
        int c = w.Shape[0];
        int rows = checked((int)(x.Value.Length / c));
        var y = tape.Output(x.RequiresGrad || w.RequiresGrad, [.. x.Shape]);
        var rstd = tape.Empty(rows);
        tape.Ops.RmsNorm.Forward(x.Value.View, w.Value.View, y.Value.View, rstd.View, rows, c, eps);
        tape.Record(y, () =>
        {
            var dx = x.RequiresGrad ? tape.Grad(x).View : tape.Empty(rows, c).View;
            var dw = w.RequiresGrad ? tape.Grad(w).View : tape.Empty(c).View;
            tape.Ops.RmsNorm.Backward(x.Value.View, w.Value.View, rstd.View, y.Grad!.View, dx, dw, rows, c);
        });
        return y;
    }

    /// <summary>Rotary position embedding of x viewed as [B, T, H, D] at the given 32-bit positions [B·T].</summary>
    public static Variable Rope(this Tape tape, Variable x, int B, int T, int H, int D, RopeTable table, Tensor positions, RopeConvention convention)
    {
        if (x.Value.Length != (long)B * T * H * D)
            throw new ArgumentException($"Rope: input {x.Value.ShapeString} is not [B={B}, T={T}, H={H}, D={D}].");
        var y = tape.Output(x.RequiresGrad, [.. x.Shape]);
        tape.Ops.Rope.Forward(x.Value.View, y.Value.View, table, positions.AsInt32(), B, T, H, D, convention);
        tape.Record(y, () => tape.Ops.Rope.Backward(y.Grad!.View, tape.Grad(x).View, table, positions.AsInt32(), B, T, H, D, convention));
        return y;
    }

    /// <summary>SwiGLU: silu(gate) ⊙ up (same shapes).</summary>
    public static Variable SwiGlu(this Tape tape, Variable gate, Variable up)
    {
        SameShape("SwiGlu", gate, up);
        int n = gate.Length;
        var y = tape.Output(gate.RequiresGrad || up.RequiresGrad, [.. gate.Shape]);
        tape.Ops.Activations.SwiGlu(gate.Value.View, up.Value.View, y.Value.View, n);
        tape.Record(y, () =>
        {
            var dg = gate.RequiresGrad ? tape.Grad(gate).View : tape.Empty(n).View;
            var du = up.RequiresGrad ? tape.Grad(up).View : tape.Empty(n).View;
            tape.Ops.Activations.SwiGluBackward(gate.Value.View, up.Value.View, y.Grad!.View, dg, du, n);
        });
        return y;
    }
}
