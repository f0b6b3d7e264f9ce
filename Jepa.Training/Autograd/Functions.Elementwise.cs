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
}
