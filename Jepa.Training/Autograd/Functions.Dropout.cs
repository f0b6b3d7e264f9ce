using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Training.Autograd;

public static partial class Functions
{
    /// <summary>
    /// Inverted dropout: on a training tape (<see cref="Tape.RecordsGradients"/>) with <paramref name="p"/> &gt; 0, keeps each
    /// element with probability 1−p and scales it by 1/(1−p), drawing the mask from Philox stream
    /// <see cref="Tape.NextRandomStream"/> of <see cref="Tape.RandomKey"/>, so it is deterministic; otherwise returns
    /// <paramref name="x"/> itself.
    /// </summary>
    public static Variable Dropout(this Tape tape, Variable x, float p)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: the drop probability must be in [0, 1).");
        if (p == 0f || !tape.RecordsGradients) return x;
        ulong key = tape.RandomKey, stream = tape.NextRandomStream();
        int n = x.Length;
        var y = tape.Output(x.RequiresGrad, [.. x.Shape]);
        tape.Ops.Dropout.Forward(x.Value.View, y.Value.View, n, p, key, stream);
        tape.Record(y, () => tape.Ops.Dropout.Backward(y.Grad!.View, tape.Grad(x).View, n, p, key, stream));
        return y;
    }

    /// <summary>
    /// dropout(x)·aᵀ for x [.., in] and a [r, in] (a LoRA down-projection) without keeping dropout(x): the forward and the
    /// backward regenerate it from the counter into a transient buffer, so only the [rows, r] output stays on the tape.
    /// The same values and gradients as <c>tape.Linear(tape.Dropout(x, p), a)</c>; without dropout, that Linear.
    /// </summary>
    public static Variable DropoutLinear(this Tape tape, Variable x, Variable a, float p)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, "DropoutLinear: the drop probability must be in [0, 1).");
        if (p == 0f || !tape.RecordsGradients) return tape.Linear(x, a);
        int k = x.Shape[^1], r = a.Shape[0];
        if (a.Shape.Count != 2 || a.Shape[1] != k)
            throw new ArgumentException($"DropoutLinear: input {x.Value.ShapeString} does not match weight {a.Value.ShapeString} ({a.Name}); the weight must be [r, {k}].");
        int rows = checked((int)(x.Value.Length / k)), n = rows * k;
        ulong key = tape.RandomKey, stream = tape.NextRandomStream();
        var ops = tape.Ops;
        var y = tape.Output(x.RequiresGrad || a.RequiresGrad, rows, r);
        using (var dropped = Tensor.Empty(tape.Device, rows, k))
        {
            ops.Dropout.Forward(x.Value.View, dropped.View, n, p, key, stream);
            ops.MatMul.Forward(MatMulForm.NT, dropped.View, a.Value.View, y.Value.View, rows, r, k);
        }
        tape.Record(y, () =>
        {
            var dy = y.Grad!.View;
            if (a.RequiresGrad)
            {
                using var dropped = Tensor.Empty(tape.Device, rows, k);
                ops.Dropout.Forward(x.Value.View, dropped.View, n, p, key, stream);
                ops.MatMul.BackwardB(MatMulForm.NT, dy, dropped.View, tape.Grad(a).View, rows, r, k);
            }
            if (x.RequiresGrad)
            {
                using var dDropped = Tensor.Zeros(tape.Device, rows, k);
                ops.MatMul.BackwardA(MatMulForm.NT, dy, a.Value.View, dDropped.View, rows, r, k);
                ops.Dropout.Backward(dDropped.View, tape.Grad(x).View, n, p, key, stream);
            }
        });
        return y;
    }
}
