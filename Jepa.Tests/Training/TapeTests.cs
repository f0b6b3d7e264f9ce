using Jepa.Core;
using Jepa.Tests.Support;
using Jepa.Training.Autograd;
using Jepa.Training.Model;

namespace Jepa.Tests.Training;

public sealed class TapeTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    [Fact]
    public void ElementwiseChainMatchesAnalyticGradients()
    {
        int n = 17;
        var a = Reference.Random(n, 1); var b = Reference.Random(n, 2); var w = Reference.Random(n, 3);
        using var pa = new Parameter(f.Upload(a, n), "a");
        using var tape = new Tape(f.Ops);
        var vb = tape.Input(f.Upload(b, n), requiresGrad: true, name: "b");
        var vw = tape.Input(f.Upload(w, n));
        // y = 2·((a ⊙ b) + a) ⊙ w, backpropagated from dL/dy = 1
        var y = tape.Mul(tape.Scale(tape.Add(tape.Mul(pa, vb), pa), 2f), vw);
        Assert.Throws<ArgumentException>(() => tape.Backward(y));
        var ones = new float[n]; Array.Fill(ones, 1f);
        tape.Backward(y, ones);
        Assert.Throws<InvalidOperationException>(() => tape.Backward(y, ones));
        Reference.AssertClose(pa.Grad!.ToArray(), Enumerable.Range(0, n).Select(i => 2.0 * (b[i] + 1) * w[i]).ToArray(), 1e-6, "da");
        Reference.AssertClose(vb.Grad!.ToArray(), Enumerable.Range(0, n).Select(i => 2.0 * a[i] * w[i]).ToArray(), 1e-6, "db");
        Assert.Null(vw.Grad);
        vb.Value.Dispose(); vw.Value.Dispose();
    }

    [Fact]
    public void ConfigValidationNamesTheWrongField()
    {
        var ok = new ModelConfig(VocabSize: 300, DModel: 64, Layers: 2, Heads: 4, KvHeads: 2, Ffn: 176).Validate();
        Assert.Equal(16, ok.HeadDim);
        var e = Assert.Throws<ArgumentException>(() => (ok with { KvHeads = 3 }).Validate());
        Assert.Contains("KvHeads", e.Message);
        e = Assert.Throws<ArgumentException>(() => (ok with { DModel = 66 }).Validate());
        Assert.Contains("DModel", e.Message);
        e = Assert.Throws<ArgumentException>(() => (ok with { VocabSize = 0 }).Validate());
        Assert.Contains("VocabSize must be positive", e.Message);
        var back = ModelConfig.FromJson(ok.ToJson());
        Assert.Equal(ok, back);
        Assert.Contains("\"vocab_size\": 300", ok.ToJson());
    }
}
