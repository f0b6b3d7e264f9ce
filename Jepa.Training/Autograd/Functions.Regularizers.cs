using Jepa.Core;

namespace Jepa.Training.Autograd;

public static partial class Functions
{
    /// <summary>
    /// SIGReg of embeddings z [N, C] (LeJEPA): z is projected onto <paramref name="slices"/> random unit directions drawn from
    /// Philox (keyed by the tape's random key and its next stream, so a step's directions depend on the seed and step alone),
    /// and the mean Epps–Pulley statistic of the projections against N(0, 1) is returned (scalar). Gradients flow into z.
    /// </summary>
    public static Variable SigReg(this Tape tape, Variable z, int slices)
    {
        int N = z.Shape[0], C = z.Shape[1];
        var directions = new float[slices * C];
        Philox.FillNormal(directions, tape.RandomKey, tape.NextRandomStream());
        for (int m = 0; m < slices; m++)
        {
            var row = directions.AsSpan(m * C, C);
            double norm = 0;
            foreach (float v in row) norm += (double)v * v;
            float inv = (float)(1 / Math.Sqrt(Math.Max(norm, 1e-30)));
            for (int c = 0; c < C; c++) row[c] *= inv;
        }
        var w = tape.Input(tape.Own(Tensor.FromArray(tape.Device, directions, slices, C)));
        var p = tape.Linear(z, w); // [N, M]: p_nm = z_n · a_m
        var cf = tape.Empty(Kernels.SigReg.SavedLength(slices));
        var stat = tape.Empty(slices);
        var y = tape.Output(p.RequiresGrad, 1);
        tape.Ops.SigReg.Forward(p.Value.View, cf.View, stat.View, y.Value.View, N, slices);
        tape.Record(y, () => tape.Ops.SigReg.Backward(p.Value.View, cf.View, tape.Grad(p).View, N, slices, UpstreamScalar(y, "SigReg")));
        return y;
    }

    /// <summary>The VICReg-style variance + covariance term of embeddings z [N, C] (scalar; see <see cref="Kernels.VicReg"/>).</summary>
    public static Variable VicReg(this Tape tape, Variable z)
    {
        int N = z.Shape[0], C = z.Shape[1];
        var saved = tape.Empty(Kernels.VicReg.SavedLength(C));
        var y = tape.Output(z.RequiresGrad, 1);
        tape.Ops.VicReg.Forward(z.Value.View, saved.View, y.Value.View, N, C);
        tape.Record(y, () => tape.Ops.VicReg.Backward(z.Value.View, saved.View, tape.Grad(z).View, N, C, UpstreamScalar(y, "VicReg")));
        return y;
    }
}
