using Jepa.Core;
using Jepa.Kernels;
using Jepa.Training.Autograd;
using Jepa.Training.Lora;

namespace Jepa.Training.Model;

/// <summary>
/// A decoder-only Llama-family language model: token embedding; N blocks of RMSNorm → causal
/// grouped-query attention with RoPE → residual, RMSNorm → SwiGLU MLP → residual; final RMSNorm; LM head
/// (tied to the embedding or not). Qwen3 (<see cref="ModelConfig.QkNorm"/>) also RMS-normalises each query and key head
/// between its projection and RoPE. Parameter names follow Hugging Face's <c>LlamaForCausalLM</c> (and
/// <c>Qwen3ForCausalLM</c>'s <c>q_norm</c>, <c>k_norm</c>).
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly List<Parameter> _parameters;
    private List<Parameter>? _frozenByLora;

    private LlamaModel(ModelConfig config, KernelLibrary ops, Parameter embed, LlamaBlock[] blocks, Parameter finalNorm, Parameter? lmHead)
    {
        Config = config;
        Ops = ops;
        Rope = ops.Rope.CreateTable(config.MaxLength, config.RopeTheta, config.RopeInverseFrequencies());
        Embed = embed;
        Blocks = blocks;
        FinalNorm = finalNorm;
        LmHead = lmHead;
        _parameters = [embed, .. blocks.SelectMany(b => b.Parameters), finalNorm];
        if (lmHead is not null) _parameters.Add(lmHead);
    }

    /// <summary>The model's shape.</summary>
    public ModelConfig Config { get; }

    /// <summary>The kernels (and through them the device).</summary>
    public KernelLibrary Ops { get; }

    /// <summary>The device holding the weights.</summary>
    public Device Device => Ops.Device;

    /// <summary>The RoPE cos/sin table for positions below <see cref="ModelConfig.MaxLength"/>.</summary>
    public RopeTable Rope { get; }

    private RopeConvention Convention => Config.RopeInterleaved ? RopeConvention.Interleaved : RopeConvention.RotateHalf;

    /// <summary>model.embed_tokens.weight [V, C].</summary>
    public Parameter Embed { get; }

    /// <summary>The transformer blocks.</summary>
    public IReadOnlyList<LlamaBlock> Blocks { get; }

    /// <summary>model.norm.weight [C].</summary>
    public Parameter FinalNorm { get; }

    /// <summary>lm_head.weight [V, C], or null when tied to <see cref="Embed"/>.</summary>
    public Parameter? LmHead { get; }

    /// <summary>Every base parameter in a fixed order (the order of checkpoints and Hugging Face exports); LoRA adapters are not among them.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The parameters an optimizer updates, in a fixed order: the base parameters that are not frozen, then the
    /// LoRA adapters' A and B (with LoRA attached, only those).</summary>
    public IReadOnlyList<Parameter> TrainableParameters => [.. _parameters.Where(p => p.RequiresGrad), .. Lora?.Parameters ?? []];

    /// <summary>The attached LoRA adapters, or null.</summary>
    public LoraAdapters? Lora { get; private set; }

    /// <summary>
    /// Attaches new LoRA adapters (<see cref="LoraAdapters"/>: A like PEFT's default init from Philox streams of
    /// <paramref name="seed"/>, B zeros) and freezes every base parameter, so only A and B train. The model computes
    /// exactly the base model until B moves.
    /// </summary>
    /// <exception cref="InvalidOperationException">LoRA is already attached.</exception>
    /// <exception cref="ArgumentException">The options are invalid; the message names the field.</exception>
    public LoraAdapters AttachLora(LoraOptions options, ulong seed = 0) => Attach(LoraAdapters.Create(this, options, seed));

    /// <summary>Attaches the PEFT LoRA adapter saved in <paramref name="directory"/> (<c>adapter_config.json</c> and
    /// <c>adapter_model.safetensors</c>) and freezes the base, as <see cref="AttachLora"/>.</summary>
    /// <exception cref="InvalidDataException">The folder is not a LoRA adapter of this model (missing file or tensor, wrong shape,
    /// rank or targets, another peft_type); the message names it.</exception>
    public LoraAdapters LoadLora(string directory)
    {
        if (Lora is not null) throw new InvalidOperationException("LoRA adapters are already attached; detach or merge them first.");
        var options = LoraAdapters.ReadOptions(directory);
        var adapters = LoraAdapters.Create(this, options, 0, zeroA: true);
        try
        {
            adapters.LoadWeights(directory);
        }
        catch
        {
            adapters.Dispose();
            throw;
        }
        return Attach(adapters);
    }

    private LoraAdapters Attach(LoraAdapters adapters)
    {
        if (Lora is not null)
        {
            adapters.Dispose();
            throw new InvalidOperationException("LoRA adapters are already attached; detach or merge them first.");
        }
        _frozenByLora = [.. _parameters.Where(p => p.RequiresGrad)];
        foreach (var p in _frozenByLora) p.Freeze();
        Lora = adapters;
        return adapters;
    }

    /// <summary>Removes and frees the LoRA adapters without touching the base weights; the parameters that
    /// <see cref="AttachLora"/> froze become trainable again (with zero gradients).</summary>
    public void DetachLora()
    {
        if (Lora is null) return;
        Lora.Dispose();
        Lora = null;
        foreach (var p in _frozenByLora ?? []) p.Unfreeze();
        _frozenByLora = null;
    }

    /// <summary>Folds the adapters into the base weights, W += (α/r)·B·A for every adapted projection, then detaches them:
    /// the model computes what the adapted model did (up to rounding) with plain weights, ready to save in the Hugging Face layout.</summary>
    /// <exception cref="InvalidOperationException">No LoRA is attached.</exception>
    public void MergeLora()
    {
        var lora = Lora ?? throw new InvalidOperationException("No LoRA adapters are attached to merge.");
        foreach (var a in lora.Adapters)
        {
            var w = LoraAdapters.Weight(Blocks[a.Layer], a.TargetIndex);
            int outF = w.Shape[0], inF = w.Shape[1];
            Ops.MatMul.Forward(MatMulForm.NN, a.B.Value.View, a.A.Value.View, w.Value.View, outF, inF, lora.Options.Rank, alpha: lora.Scale, beta: 1f);
        }
        DetachLora();
    }

    /// <summary>x·Wᵀ (+b) of <paramref name="layer"/>'s projection <paramref name="target"/> (index into
    /// <see cref="LoraOptions.AllTargets"/>), plus (α/r)·(dropout(x)·Aᵀ)·Bᵀ when that projection has a LoRA adapter.
    /// Every projection of <see cref="Forward"/> and <see cref="ForwardCached"/> goes through here.</summary>
    private Variable Project(Tape tape, Variable x, int layer, int target, Parameter w, Parameter? bias = null)
    {
        if (Lora?.Get(layer, target) is not { } adapter) return tape.Linear(x, w, bias);
        var xa = tape.DropoutLinear(x, adapter.A, Lora.Options.Dropout);
        return tape.LoraLinear(x, w, bias, xa, adapter.B, Lora.Scale);
    }

    /// <summary>The query (<paramref name="target"/> 0) or key (1) heads of <paramref name="layer"/>, [B·T, heads·D]: the
    /// projection, each head RMS-normalised by <paramref name="norm"/> when the model has q/k norms (Qwen3), then RoPE.</summary>
    private Variable RopedHeads(Tape tape, Variable h, int layer, int target, Parameter w, Parameter? bias, Parameter? norm,
        int B, int T, int heads, Tensor positions)
    {
        var x = Project(tape, h, layer, target, w, bias);
        if (norm is not null) x = tape.HeadRmsNorm(x, norm, (float)Config.NormEps);
        return tape.Rope(x, B, T, heads, Config.HeadDim, Rope, positions, Convention);
    }

    /// <summary>
    /// A randomly initialised model: normal(0, 0.02) weights, residual output projections (o_proj,
    /// down_proj) scaled by 1/√(2·layers), norms (q/k norms included) at one. Parameter i draws from Philox stream i of
    /// <paramref name="seed"/>, so the weights depend on the seed alone.
    /// </summary>
    public static LlamaModel Create(ModelConfig config, KernelLibrary ops, ulong seed)
    {
        config.Validate();
        long weights = config.ParameterCount() * sizeof(float), memory = ops.Device.Info.MemoryBytes;
        if (memory > 0 && weights > memory)
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Model config: {config.ParameterCount() / 1e6:F1} M parameters need {weights / 1073741824.0:F1} GiB for the weights alone ({config.TrainingBytes() / 1073741824.0:F1} GiB to train with AdamW), but {ops.Device.Info.Name} has {memory / 1073741824.0:F1} GiB."),
                nameof(config));
        int c = config.DModel, d = config.HeadDim, q = config.Heads * d, kv = config.KvHeads * d, f = config.Ffn;
        float std = 0.02f, residualStd = std / MathF.Sqrt(2f * config.Layers);
        ulong stream = 0;
        Parameter Normal(string name, float s, bool decay, params int[] shape)
        {
            var host = new float[Tensor.ElementCount(shape)];
            Philox.FillNormal(host, seed, stream++, 0f, s);
            return new Parameter(Tensor.FromArray(ops.Device, host, shape), name, decay: decay);
        }
        Parameter Ones(string name, int n)
        {
            stream++;
            var host = new float[n];
            Array.Fill(host, 1f);
            return new Parameter(Tensor.FromArray(ops.Device, host, n), name, decay: false);
        }
        Parameter? Zeros(bool present, string name, int n) =>
            present ? new Parameter(Tensor.Zeros(ops.Device, n), name, decay: false) : null;

        var embed = Normal("model.embed_tokens.weight", std, false, config.VocabSize, c);
        var blocks = new LlamaBlock[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            blocks[l] = new LlamaBlock(
                Ones(p + "input_layernorm.weight", c),
                Normal(p + "self_attn.q_proj.weight", std, true, q, c),
                Normal(p + "self_attn.k_proj.weight", std, true, kv, c),
                Normal(p + "self_attn.v_proj.weight", std, true, kv, c),
                Normal(p + "self_attn.o_proj.weight", residualStd, true, c, q),
                Ones(p + "post_attention_layernorm.weight", c),
                Normal(p + "mlp.gate_proj.weight", std, true, f, c),
                Normal(p + "mlp.up_proj.weight", std, true, f, c),
                Normal(p + "mlp.down_proj.weight", residualStd, true, c, f),
                Zeros(config.QkvBias, p + "self_attn.q_proj.bias", q),
                Zeros(config.QkvBias, p + "self_attn.k_proj.bias", kv),
                Zeros(config.QkvBias, p + "self_attn.v_proj.bias", kv),
                Zeros(config.OutputBias, p + "self_attn.o_proj.bias", c),
                config.QkNorm ? Ones(p + "self_attn.q_norm.weight", d) : null,
                config.QkNorm ? Ones(p + "self_attn.k_norm.weight", d) : null);
        }
        var norm = Ones("model.norm.weight", c);
        var head = config.TieEmbeddings ? null : Normal("lm_head.weight", std, true, config.VocabSize, c);
        return new LlamaModel(config, ops, embed, blocks, norm, head);
    }

    /// <summary>Builds a model from named tensors (a checkpoint); every expected name must be present with its shape.
    /// On failure, the tensors already loaded are freed.</summary>
    /// <exception cref="InvalidDataException">A tensor is missing or has the wrong shape; the message names it.</exception>
    public static LlamaModel FromTensors(ModelConfig config, KernelLibrary ops, Func<string, int[], Tensor?> load, bool trainable = true)
    {
        config.Validate();
        int c = config.DModel, d = config.HeadDim, q = config.Heads * d, kv = config.KvHeads * d, f = config.Ffn;
        var made = new List<Parameter>();
        Parameter P(string name, bool decay, params int[] shape)
        {
            var t = load(name, shape) ?? throw new InvalidDataException($"Checkpoint has no tensor '{name}' (expected shape [{string.Join(", ", shape)}]).");
            if (!t.Shape.SequenceEqual(shape))
            {
                string got = t.ShapeString;
                t.Dispose();
                throw new InvalidDataException($"Checkpoint tensor '{name}' has shape {got}, expected [{string.Join(", ", shape)}].");
            }
            var param = new Parameter(t, name, trainable, decay);
            made.Add(param);
            return param;
        }
        try
        {
            return Build();
        }
        catch
        {
            foreach (var p in made) p.Dispose();
            throw;
        }

        LlamaModel Build()
        {
            var embed = P("model.embed_tokens.weight", false, config.VocabSize, c);
            var blocks = new LlamaBlock[config.Layers];
            for (int l = 0; l < config.Layers; l++)
            {
                string p = $"model.layers.{l}.";
                blocks[l] = new LlamaBlock(
                    P(p + "input_layernorm.weight", false, c),
                    P(p + "self_attn.q_proj.weight", true, q, c),
                    P(p + "self_attn.k_proj.weight", true, kv, c),
                    P(p + "self_attn.v_proj.weight", true, kv, c),
                    P(p + "self_attn.o_proj.weight", true, c, q),
                    P(p + "post_attention_layernorm.weight", false, c),
                    P(p + "mlp.gate_proj.weight", true, f, c),
                    P(p + "mlp.up_proj.weight", true, f, c),
                    P(p + "mlp.down_proj.weight", true, c, f),
                    config.QkvBias ? P(p + "self_attn.q_proj.bias", false, q) : null,
                    config.QkvBias ? P(p + "self_attn.k_proj.bias", false, kv) : null,
                    config.QkvBias ? P(p + "self_attn.v_proj.bias", false, kv) : null,
                    config.OutputBias ? P(p + "self_attn.o_proj.bias", false, c) : null,
                    config.QkNorm ? P(p + "self_attn.q_norm.weight", false, d) : null,
                    config.QkNorm ? P(p + "self_attn.k_norm.weight", false, d) : null);
            }
            var norm = P("model.norm.weight", false, c);
            var head = config.TieEmbeddings ? null : P("lm_head.weight", true, config.VocabSize, c);
            return new LlamaModel(config, ops, embed, blocks, norm, head);
        }
    }

    /// <summary>A copy of this model's weights as a new model (for an EMA target encoder: not trainable).</summary>
    public LlamaModel Clone(bool trainable)
    {
        var byName = _parameters.ToDictionary(p => p.Name);
        return FromTensors(Config, Ops, (name, shape) =>
        {
            var src = byName[name].Value;
            var t = Tensor.Empty(Device, shape);
            Ops.Elementwise.Copy(src.View, t.View, checked((int)t.Length));
            return t;
        }, trainable);
    }

    /// <summary>The last layer's hidden states after the final norm, [B·T, C].</summary>
    public Variable Forward(Tape tape, SequenceBatch batch)
    {
        var cfg = Config;
        int B = batch.B, T = batch.T, H = cfg.Heads, Hkv = cfg.KvHeads, D = cfg.HeadDim;
        float eps = (float)cfg.NormEps;
        if (T > cfg.MaxLength || batch.HostPositions.Any(p => p < 0 || p >= cfg.MaxLength))
            throw new ArgumentException($"Sequence length {T} or a position exceeds the model's maximum length {cfg.MaxLength}.");
        var x = tape.Embedding(Embed, batch.Tokens, batch.HostTokens);
        for (int l = 0; l < Blocks.Count; l++)
        {
            var blk = Blocks[l];
            var h = tape.RmsNorm(x, blk.AttnNorm, eps);
            var q = RopedHeads(tape, h, l, 0, blk.Wq, blk.Bq, blk.QNorm, B, T, H, batch.Positions);
            var k = RopedHeads(tape, h, l, 1, blk.Wk, blk.Bk, blk.KNorm, B, T, Hkv, batch.Positions);
            var v = Project(tape, h, l, 2, blk.Wv, blk.Bv);
            var a = tape.Attention(q, k, v, B, T, H, Hkv, D, batch.Segments);
            x = tape.Add(x, Project(tape, a, l, 3, blk.Wo, blk.Bo));
            var m = tape.RmsNorm(x, blk.MlpNorm, eps);
            var s = tape.SwiGlu(Project(tape, m, l, 4, blk.Gate), Project(tape, m, l, 5, blk.Up));
            x = tape.Add(x, Project(tape, s, l, 6, blk.Down));
        }
        return tape.RmsNorm(x, FinalNorm, eps);
    }

    /// <summary>
    /// Inference forward of new tokens [B, Tq] at positions [cache.Length, cache.Length + Tq) through the
    /// key/value cache, which it extends. Returns the final hidden states [B·Tq, C] (no gradients).
    /// B = tokens.Length / Tq is usually cache.B; when smaller, only the cache's first B sequences take part
    /// (the others are neither read nor written, so they no longer hold every position before cache.Length).
    /// </summary>
    /// <exception cref="ArgumentException">tokens is not B·Tq ids for some 1 ≤ B ≤ cache.B, or the cache is too short.</exception>
    public Variable ForwardCached(Tape tape, KvCache cache, int[] tokens, int tq)
    {
        var cfg = Config;
        if (tq < 1 || tokens.Length == 0 || tokens.Length % tq != 0 || tokens.Length / tq > cache.B)
            throw new ArgumentException($"Cached forward of {tokens.Length} token ids in rows of {tq}: needs between 1 and {cache.B} (the cache's sequences) full rows.", nameof(tokens));
        int B = tokens.Length / tq, H = cfg.Heads, Hkv = cfg.KvHeads, D = cfg.HeadDim, start = cache.Length;
        if (start + tq > cache.MaxLength) throw new ArgumentException($"Generation needs {start + tq} positions but the cache holds {cache.MaxLength}.");
        var positions = new int[B * tq];
        for (int i = 0; i < positions.Length; i++) positions[i] = start + i % tq;
        using var batch = new SequenceBatch(Device, B, tq, tokens, cfg.VocabSize, positions);
        float eps = (float)cfg.NormEps;
        var x = tape.Embedding(Embed, batch.Tokens, batch.HostTokens);
        for (int l = 0; l < Blocks.Count; l++)
        {
            var blk = Blocks[l];
            var h = tape.RmsNorm(x, blk.AttnNorm, eps);
            var q = RopedHeads(tape, h, l, 0, blk.Wq, blk.Bq, blk.QNorm, B, tq, H, batch.Positions);
            var k = RopedHeads(tape, h, l, 1, blk.Wk, blk.Bk, blk.KNorm, B, tq, Hkv, batch.Positions);
            var v = Project(tape, h, l, 2, blk.Wv, blk.Bv);
            Ops.CachedAttention.Append(k.Value.View, cache.Keys[l].View, B, tq, start, cache.MaxLength, Hkv, D);
            Ops.CachedAttention.Append(v.Value.View, cache.Values[l].View, B, tq, start, cache.MaxLength, Hkv, D);
            var a = tape.Output(false, B * tq, H * D);
            Ops.CachedAttention.Forward(q.Value.View, cache.Keys[l].View, cache.Values[l].View, a.Value.View, B, tq, start, cache.MaxLength, H, Hkv, D);
            x = tape.Add(x, Project(tape, a, l, 3, blk.Wo, blk.Bo));
            var m = tape.RmsNorm(x, blk.MlpNorm, eps);
            var s = tape.SwiGlu(Project(tape, m, l, 4, blk.Gate), Project(tape, m, l, 5, blk.Up));
            x = tape.Add(x, Project(tape, s, l, 6, blk.Down));
        }
        cache.Length = start + tq;
        return tape.RmsNorm(x, FinalNorm, eps);
    }

    /// <summary>Logits [rows, V] of hidden states [rows, C] through the LM head (tied or not).</summary>
    public Variable Logits(Tape tape, Variable hidden) => tape.Linear(hidden, LmHead ?? Embed);

    /// <summary>Zeros every trainable parameter's gradient (LoRA adapters included).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
        foreach (var p in Lora?.Parameters ?? []) p.ZeroGrad();
    }

    /// <summary>Frees every parameter, the LoRA adapters and the RoPE table.</summary>
    public void Dispose()
    {
        Lora?.Dispose();
        foreach (var p in _parameters) p.Dispose();
        Rope.Dispose();
    }
}
