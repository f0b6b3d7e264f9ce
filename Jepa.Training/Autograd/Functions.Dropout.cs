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
}
