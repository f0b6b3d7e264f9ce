namespace Jepa.Training.Autograd;

/// <summary>Differentiable functions over <see cref="Variable"/>s: each runs a forward kernel and records its backward.</summary>
public static partial class Functions
{
    private static void SameShape(string op, Variable a, Variable b)
    {
        if (a.Value.Length != b.Value.Length)
            throw new ArgumentException($"{op}: shapes {a.Value.ShapeString} and {b.Value.ShapeString} differ.");
    }

    /// <summary>a + b (same shape).</summary>
    public static Variable Add(this Tape tape, Variable a, Variable b)
    {
        SameShape("Add", a, b);
        int n = a.Length;
        var y = tape.Output(a.RequiresGrad || b.RequiresGrad, [.. a.Shape]);
        tape.Ops.Elementwise.Add(a.Value.View, b.Value.View, y.Value.View, n);
        tape.Record(y, () =>
        {
            var dy = y.Grad!.View;
            if (a.RequiresGrad) tape.Ops.Elementwise.Axpy(1f, dy, tape.Grad(a).View, n);
            if (b.RequiresGrad) tape.Ops.Elementwise.Axpy(1f, dy, tape.Grad(b).View, n);
        });
        return y;
    }

    /// <summary>a ⊙ b (same shape).</summary>
    public static Variable Mul(this Tape tape, Variable a, Variable b)
    {
        SameShape("Mul", a, b);
        int n = a.Length;
        var y = tape.Output(a.RequiresGrad || b.RequiresGrad, [.. a.Shape]);
        tape.Ops.Elementwise.Mul(a.Value.View, b.Value.View, y.Value.View, n);
        tape.Record(y, () =>
        {
            // one fused backward; an input without a gradient gets a throw-away buffer
            var da = a.RequiresGrad ? tape.Grad(a).View : tape.Empty(n).View;
            var db = b.RequiresGrad ? tape.Grad(b).View : tape.Empty(n).View;
            tape.Ops.Elementwise.MulBackward(y.Grad!.View, a.Value.View, b.Value.View, da, db, n);
        });
        return y;
    }

    /// <summary>s · x.</summary>
    public static Variable Scale(this Tape tape, Variable x, float s)
    {
        int n = x.Length;
        var y = tape.Output(x.RequiresGrad, [.. x.Shape]);
        tape.Ops.Elementwise.Scale(s, x.Value.View, y.Value.View, n);
        tape.Record(y, () => tape.Ops.Elementwise.Axpy(s, y.Grad!.View, tape.Grad(x).View, n));
        return y;
    }

    /// <summary>x + c for a constant c (y = c, then y += x: the sum rounds as x + c does); the gradient passes through.
    /// Gemma-2's (1 + w) RMSNorm gains.</summary>
    public static Variable Offset(this Tape tape, Variable x, float c)
    {
        int n = x.Length;
        var y = tape.Output(x.RequiresGrad, [.. x.Shape]);
        tape.Ops.Elementwise.Fill(c, y.Value.View, n);
        tape.Ops.Elementwise.Axpy(1f, x.Value.View, y.Value.View, n);
        tape.Record(y, () => tape.Ops.Elementwise.Axpy(1f, y.Grad!.View, tape.Grad(x).View, n));
        return y;
    }

    /// <summary>GELU(x), exact or in its tanh form (Hugging Face's <c>gelu_pytorch_tanh</c>).</summary>
    public static Variable Gelu(this Tape tape, Variable x, Jepa.Kernels.GeluApproximation approximation)
    {
        int n = x.Length;
        var y = tape.Output(x.RequiresGrad, [.. x.Shape]);
        tape.Ops.Activations.Gelu(x.Value.View, y.Value.View, n, approximation);
        tape.Record(y, () => tape.Ops.Activations.GeluBackward(x.Value.View, y.Grad!.View, tape.Grad(x).View, n, approximation));
        return y;
    }

    /// <summary>c·tanh(x / c): soft-capping (Gemma-2's final logits).</summary>
    public static Variable SoftCap(this Tape tape, Variable x, float cap)
    {
        int n = x.Length;
        var y = tape.Output(x.RequiresGrad, [.. x.Shape]);
        tape.Ops.Activations.SoftCap(x.Value.View, y.Value.View, n, cap);
        tape.Record(y, () => tape.Ops.Activations.SoftCapBackward(x.Value.View, y.Grad!.View, tape.Grad(x).View, n, cap));
        return y;
    }
}
