using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Tests.Support;
using Jepa.Training.Autograd;
using Jepa.Training.Model;

namespace Jepa.Tests.Training;

/// <summary>The Llama forward against reference logits computed in float64 by an independent implementation.</summary>
public sealed class LlamaFixtureTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-llama", file);

    [Fact]
    public void TinyLlamaReproducesReferenceLogitsAndHiddenStates()
    {
        var config = new ModelConfig(VocabSize: 128, DModel: 64, Layers: 2, Heads: 4, KvHeads: 2, Ffn: 176,
            RopeTheta: 10000, NormEps: 1e-5, MaxLength: 128, TieEmbeddings: false);
        using var weights = SafetensorsReader.Open(Fixture("model.safetensors"));
        using var expected = SafetensorsReader.Open(Fixture("expected.safetensors"));
        using var model = LlamaModel.FromTensors(config, f.Ops, (name, _) => weights.Contains(name) ? weights.ReadTensor(name, f.Device) : null);
        var ids = expected.ReadInt32("input_ids");
        using var batch = new SequenceBatch(f.Device, 2, 16, ids, config.VocabSize);
        using var tape = new Tape(f.Ops);
        var hidden = model.Forward(tape, batch);
        var logits = model.Logits(tape, hidden);
        Reference.AssertClose(hidden.Value.ToArray(), Reference.ToDouble(expected.ReadFloat32("last_hidden_state")), 1e-4, "last hidden state");
        Reference.AssertClose(logits.Value.ToArray(), Reference.ToDouble(expected.ReadFloat32("logits")), 1e-4, "logits");
    }

    [Fact]
    public void HuggingFaceFolderLoadsThroughConfigJson()
    {
        using var model = HfCheckpoint.Load(Path.GetDirectoryName(Fixture("config.json"))!, f.Ops);
        Assert.Equal(new ModelConfig(128, 64, 2, 4, 2, 176, 10000, 1e-5, 128, false), model.Config);
        using var expected = SafetensorsReader.Open(Fixture("expected.safetensors"));
        using var batch = new SequenceBatch(f.Device, 2, 16, expected.ReadInt32("input_ids"), 128);
        using var tape = new Tape(f.Ops, recordGradients: false);
        var logits = model.Logits(tape, model.Forward(tape, batch));
        Reference.AssertClose(logits.Value.ToArray(), Reference.ToDouble(expected.ReadFloat32("logits")), 1e-4, "logits");
    }

    [Fact]
    public void TinyQwen2WithHeadDimBiasesAndLlama3RopeScalingReproducesReferenceLogits()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-qwen2");
        using var model = HfCheckpoint.Load(dir, f.Ops);
        Assert.True(model.Config is { QkvBias: true, OutputBias: false, HeadDim: 24, TieEmbeddings: true, RopeScaling.Type: "llama3" });
        using var expected = SafetensorsReader.Open(Path.Combine(dir, "expected.safetensors"));
        using var batch = new SequenceBatch(f.Device, 2, 40, expected.ReadInt32("input_ids"), 96);
        using var tape = new Tape(f.Ops, recordGradients: false);
        var hidden = model.Forward(tape, batch);
        var logits = model.Logits(tape, hidden);
        Reference.AssertClose(hidden.Value.ToArray(), Reference.ToDouble(expected.ReadFloat32("last_hidden_state")), 1e-4, "last hidden state");
        Reference.AssertClose(logits.Value.ToArray(), Reference.ToDouble(expected.ReadFloat32("logits")), 1e-4, "logits");
    }

    [Fact]
    public void MissingOrMisshapenTensorIsNamed()
    {
        var config = new ModelConfig(128, 64, 2, 4, 2, 176);
        using var weights = SafetensorsReader.Open(Fixture("model.safetensors"));
        var e = Assert.Throws<InvalidDataException>(() => LlamaModel.FromTensors(config, f.Ops,
            (name, _) => name.Contains("layers.1.mlp.up_proj") ? null : weights.ReadTensor(name, f.Device)));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
        e = Assert.Throws<InvalidDataException>(() => LlamaModel.FromTensors(config with { Ffn = 180 }, f.Ops,
            (name, _) => weights.ReadTensor(name, f.Device)));
        Assert.Contains("mlp.gate_proj.weight", e.Message);
        Assert.Contains("expected [180, 64]", e.Message);
    }
}
