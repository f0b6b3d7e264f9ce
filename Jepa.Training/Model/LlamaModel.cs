using Jepa.Core;
using Jepa.Kernels;
using Jepa.Training.Autograd;

namespace Jepa.Training.Model;

/// <summary>
/// A decoder-only Llama-family language model: token embedding; N blocks of RMSNorm → causal
/// grouped-query attention with RoPE → residual, RMSNorm → SwiGLU MLP → residual; final RMSNorm; LM head
/// (tied to the embedding or not). Qwen3 (<see cref="ModelConfig.QkNorm"/>) also RMS-normalises each query and key head
/// between its projection and RoPE; OLMo-2 normalises the whole projected queries and keys
/// (<see cref="ModelConfig.QkNormAcrossHeads"/>) and moves the block's norms onto the attention and feed-forward outputs
/// (<see cref="ModelConfig.PostNorm"/>); Gemma-2 (<see cref="ModelConfig.Gemma2"/>) scales the embeddings, normalises with
/// (1 + w) before and after attention and MLP, uses GeGLU, soft-caps attention scores and logits and gives alternate layers
/// a sliding window; OpenELM (<see cref="ModelConfig.OpenElm"/>) fuses q/k/v and gate/up into one weight each, used as row blocks,
/// and sizes every layer on its own (<see cref="ModelConfig.LayerScaling"/>). Parameter names follow Hugging Face's
/// <c>LlamaForCausalLM</c> (and <c>Qwen3ForCausalLM</c>'s, <c>Olmo2ForCausalLM</c>'s, <c>Gemma2ForCausalLM</c>'s and
/// <c>OpenELMForCausalLM</c>'s).
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly List<Parameter> _parameters;

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
    /// attached hook's (LoRA's A and B; with LoRA attached, only those, as it freezes the base).</summary>
    public IReadOnlyList<Parameter> TrainableParameters => [.. _parameters.Where(p => p.RequiresGrad), .. Hook?.Parameters ?? []];

    /// <summary>The projections of this model's blocks, in <see cref="Projection"/> order: Llama's seven, or OpenELM's four.</summary>
    public IReadOnlyList<Projection> ProjectionKinds => [.. Projections.All.Where(p => Blocks[0].Weight(p) is not null)];

    /// <summary>The attached projection hook (LoRA adapters), or null.</summary>
    public IProjectionHook? Hook { get; private set; }

    /// <summary>Attaches <paramref name="hook"/>, which then computes every projection it answers for, and which the model
    /// owns from now on (it trains its parameters and disposes it).</summary>
    /// <exception cref="InvalidOperationException">A hook is already attached.</exception>
    public void AttachHook(IProjectionHook hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (Hook is not null) throw new InvalidOperationException("LoRA adapters are already attached; detach or merge them first.");
        Hook = hook;
    }

    /// <summary>Removes the attached hook without disposing it and returns it (null when none is attached).</summary>
    public IProjectionHook? DetachHook()
    {
        var hook = Hook;
        Hook = null;
        return hook;
    }

    /// <summary>x·Wᵀ (+b) of <paramref name="layer"/>'s <paramref name="projection"/>, or what the attached hook makes of it.
    /// Every projection of <see cref="Forward"/> and <see cref="ForwardCached"/> goes through here.</summary>
    private Variable Project(Tape tape, Variable x, int layer, Projection projection, Parameter w, Parameter? bias = null) =>
        Hook?.Project(tape, x, layer, projection, w, bias) ?? tape.Linear(x, w, bias);

    /// <summary>The parts of a fused projection (OpenELM's <c>qkv_proj</c> and <c>proj_1</c>): x·W[rows]ᵀ for consecutive row
    /// blocks of <paramref name="w"/> of the sizes <paramref name="parts"/> (or what the attached hook makes of them). The same
    /// values as slicing the fused output's columns, without a copy.</summary>
    private Variable[] ProjectParts(Tape tape, Variable x, int layer, Projection projection, Parameter w, params int[] parts)
    {
        if (Hook?.ProjectParts(tape, x, layer, projection, w, parts) is { } hooked) return hooked;
        var outputs = new Variable[parts.Length];
        for (int i = 0, start = 0; i < parts.Length; start += parts[i++]) outputs[i] = tape.Linear(x, w.RowSlice(start, parts[i]));
        return outputs;
    }

    /// <summary>Projected query or key heads [B·T, heads·D], RMS-normalised by <paramref name="norm"/> when the model has q/k
    /// norms (each head with Qwen3's and OpenELM's gains of the head width, the whole row with OLMo-2's of width heads·D), then
    /// RoPE.</summary>
    private Variable RopedHeads(Tape tape, Variable x, Parameter? norm, int B, int T, int heads, Tensor positions)
    {
        if (norm is not null) x = tape.HeadRmsNorm(x, norm, (float)Config.NormEps);
        return tape.Rope(x, B, T, heads, Config.HeadDim, Rope, positions, Convention);
    }

    /// <summary>How a weight of a new model starts (<see cref="Create"/>).</summary>
    private enum WeightInit
    {
        /// <summary>normal(0, 0.02).</summary>
        Normal,
        /// <summary>normal(0, 0.02 / √(2·layers)): the projections that write into the residual stream.</summary>
        Residual,
        /// <summary>A norm gain at its identity: all ones, or all zeros under Gemma-2's (1 + w).</summary>
        Gain,
        /// <summary>All zeros (biases).</summary>
        Zeros,
    }

    /// <summary>One row of the weight table: the Hugging Face name, the shape, how a new model initialises it, and whether
    /// AdamW decays it.</summary>
    private readonly record struct WeightSpec(string Name, int[] Shape, WeightInit Init, bool Decay);

    /// <summary>
    /// The weight table, the one place that names every tensor of a model of <paramref name="config"/>: <paramref name="make"/>
    /// builds each in the fixed order of <see cref="Parameters"/> (embedding; per block its norms and projections, then biases and
    /// q/k norms and Gemma-2's post norms when present; final norm; LM head when not tied). OLMo-2's post-norm blocks keep
    /// their two norms in the same slots under its names (<c>post_attention_layernorm</c> on the attention output,
    /// <c>post_feedforward_layernorm</c> on the feed-forward output); Gemma-2's feed-forward input norm is
    /// <c>pre_feedforward_layernorm</c>, and its <c>post_attention_layernorm</c> and <c>post_feedforward_layernorm</c> follow.
    /// </summary>
    private static LlamaModel Assemble(ModelConfig config, KernelLibrary ops, Func<WeightSpec, Parameter> make)
    {
        if (config.OpenElm) return AssembleOpenElm(config, ops, make);
        int c = config.DModel, q = config.Heads * config.HeadDim, kv = config.KvHeads * config.HeadDim, f = config.Ffn;
        var (qNorm, kNorm) = config.QkNormWidths;
        Parameter W(string name, WeightInit init, bool decay, params int[] shape) => make(new WeightSpec(name, shape, init, decay));
        Parameter? Bias(bool present, string name, int n) => present ? W(name, WeightInit.Zeros, false, n) : null;
        Parameter? Gain(bool present, string name, int n) => present ? W(name, WeightInit.Gain, false, n) : null;
        string attnNorm = config.PostNorm ? "post_attention_layernorm" : "input_layernorm";
        string mlpNorm = config.PostNorm ? "post_feedforward_layernorm" : config.Gemma2 ? "pre_feedforward_layernorm" : "post_attention_layernorm";

        var embed = W("model.embed_tokens.weight", WeightInit.Normal, false, config.VocabSize, c);
        var blocks = new LlamaBlock[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            blocks[l] = new LlamaBlock(
                W(p + attnNorm + ".weight", WeightInit.Gain, false, c),
                W(p + "self_attn.q_proj.weight", WeightInit.Normal, true, q, c),
                W(p + "self_attn.k_proj.weight", WeightInit.Normal, true, kv, c),
                W(p + "self_attn.v_proj.weight", WeightInit.Normal, true, kv, c),
                W(p + "self_attn.o_proj.weight", WeightInit.Residual, true, c, q),
                W(p + mlpNorm + ".weight", WeightInit.Gain, false, c),
                W(p + "mlp.gate_proj.weight", WeightInit.Normal, true, f, c),
                W(p + "mlp.up_proj.weight", WeightInit.Normal, true, f, c),
                W(p + "mlp.down_proj.weight", WeightInit.Residual, true, c, f),
                Bias(config.QkvBias, p + "self_attn.q_proj.bias", q),
                Bias(config.QkvBias, p + "self_attn.k_proj.bias", kv),
                Bias(config.QkvBias, p + "self_attn.v_proj.bias", kv),
                Bias(config.OutputBias, p + "self_attn.o_proj.bias", c),
                Gain(config.QkNorm, p + "self_attn.q_norm.weight", qNorm),
                Gain(config.QkNorm, p + "self_attn.k_norm.weight", kNorm),
                Gain(config.Gemma2, p + "post_attention_layernorm.weight", c),
                Gain(config.Gemma2, p + "post_feedforward_layernorm.weight", c));
        }
        var norm = W("model.norm.weight", WeightInit.Gain, false, c);
        var head = config.TieEmbeddings ? null : W("lm_head.weight", WeightInit.Normal, true, config.VocabSize, c);
        return new LlamaModel(config, ops, embed, blocks, norm, head);
    }

    /// <summary>
    /// The weight table of an OpenELM model (<see cref="ModelConfig.OpenElm"/>), in its names: per layer <c>attn_norm</c>, the
    /// fused <c>attn.qkv_proj</c> [(Hq + 2·Hkv)·D, C] of that layer's head counts, <c>attn.out_proj</c>, <c>ffn_norm</c>, the fused
    /// <c>ffn.proj_1</c> [2F, C] and <c>ffn.proj_2</c> of that layer's width, then the per-head <c>attn.q_norm</c> and
    /// <c>attn.k_norm</c> [D] when present; the embedding is <c>transformer.token_embeddings</c> and the final norm
    /// <c>transformer.norm</c>.
    /// </summary>
    private static LlamaModel AssembleOpenElm(ModelConfig config, KernelLibrary ops, Func<WeightSpec, Parameter> make)
    {
        int c = config.DModel, d = config.HeadDim;
        Parameter W(string name, WeightInit init, bool decay, params int[] shape) => make(new WeightSpec(name, shape, init, decay));
        var embed = W("transformer.token_embeddings.weight", WeightInit.Normal, false, config.VocabSize, c);
        var blocks = new LlamaBlock[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"transformer.layers.{l}.";
            int q = config.HeadsOf(l) * d, kv = config.KvHeadsOf(l) * d, f = config.FfnOf(l);
            var attnNorm = W(p + "attn_norm.weight", WeightInit.Gain, false, c);
            var qkv = W(p + "attn.qkv_proj.weight", WeightInit.Normal, true, q + 2 * kv, c);
            var wo = W(p + "attn.out_proj.weight", WeightInit.Residual, true, c, q);
            var ffnNorm = W(p + "ffn_norm.weight", WeightInit.Gain, false, c);
            var proj1 = W(p + "ffn.proj_1.weight", WeightInit.Normal, true, 2 * f, c);
            var proj2 = W(p + "ffn.proj_2.weight", WeightInit.Residual, true, c, f);
            var qNorm = config.QkNorm ? W(p + "attn.q_norm.weight", WeightInit.Gain, false, d) : null;
            var kNorm = config.QkNorm ? W(p + "attn.k_norm.weight", WeightInit.Gain, false, d) : null;
            blocks[l] = new LlamaBlock(attnNorm, null, null, null, wo, ffnNorm, null, null, proj2, QNorm: qNorm, KNorm: kNorm, Wqkv: qkv, Proj1: proj1);
        }
        var norm = W("transformer.norm.weight", WeightInit.Gain, false, c);
        var head = config.TieEmbeddings ? null : W("lm_head.weight", WeightInit.Normal, true, config.VocabSize, c);
        return new LlamaModel(config, ops, embed, blocks, norm, head);
    }

    /// <summary>
    /// A randomly initialised model: normal(0, 0.02) weights, residual output projections (o_proj,
    /// down_proj) scaled by 1/√(2·layers), norms (q/k norms included) at gain one (Gemma-2's w at zero), biases at zero. Each weight but the biases
    /// draws from (or, for the norms, skips) the next Philox stream of <paramref name="seed"/> in the weight table's order,
    /// so the weights depend on the seed alone.
    /// </summary>
    public static LlamaModel Create(ModelConfig config, KernelLibrary ops, ulong seed)
    {
        config.Validate();
        long weights = config.ParameterCount() * sizeof(float), memory = ops.Device.Info.MemoryBytes;
        if (memory > 0 && weights > memory)
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Model config: {config.ParameterCount() / 1e6:F1} M parameters need {weights / 1073741824.0:F1} GiB for the weights alone ({config.TrainingBytes() / 1073741824.0:F1} GiB to train with AdamW), but {ops.Device.Info.Name} has {memory / 1073741824.0:F1} GiB."),
                nameof(config));
        float std = 0.02f, residualStd = std / MathF.Sqrt(2f * config.Layers);
        ulong stream = 0;
        return Assemble(config, ops, spec =>
        {
            if (spec.Init == WeightInit.Zeros) return new Parameter(Tensor.Zeros(ops.Device, spec.Shape), spec.Name, decay: spec.Decay);
            var host = new float[Tensor.ElementCount(spec.Shape)];
            ulong own = stream++;
            if (spec.Init == WeightInit.Gain) Array.Fill(host, config.Gemma2 ? 0f : 1f);
            else Philox.FillNormal(host, seed, own, 0f, spec.Init == WeightInit.Residual ? residualStd : std);
            return new Parameter(Tensor.FromArray(ops.Device, host, spec.Shape), spec.Name, decay: spec.Decay);
        });
    }

    /// <summary>Builds a model from named tensors (a checkpoint); every expected name must be present with its shape.
    /// On failure, the tensors already loaded are freed.</summary>
    /// <exception cref="InvalidDataException">A tensor is missing or has the wrong shape; the message names it.</exception>
    public static LlamaModel FromTensors(ModelConfig config, KernelLibrary ops, Func<string, int[], Tensor?> load, bool trainable = true)
    {
        config.Validate();
        var made = new List<Parameter>();
        try
        {
            return Assemble(config, ops, spec =>
            {
                var t = load(spec.Name, spec.Shape) ?? throw new InvalidDataException($"Checkpoint has no tensor '{spec.Name}' (expected shape [{string.Join(", ", spec.Shape)}]).");
                if (!t.Shape.SequenceEqual(spec.Shape))
                {
                    string got = t.ShapeString;
                    t.Dispose();
                    throw new InvalidDataException($"Checkpoint tensor '{spec.Name}' has shape {got}, expected [{string.Join(", ", spec.Shape)}].");
                }
                var param = new Parameter(t, spec.Name, trainable, spec.Decay);
                made.Add(param);
                return param;
            });
        }
        catch
        {
            foreach (var p in made) p.Dispose();
            throw;
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

    /// <summary>
    /// Block <paramref name="layer"/> over hidden states x [B·T, C]: attention, then the SwiGLU feed-forward, each added to the
    /// residual stream; pre-norm (Llama: x + f(norm(x))) or, with <see cref="ModelConfig.PostNorm"/>, post-norm inside the
    /// residual (OLMo-2: x + norm(f(x))). <paramref name="attend"/> maps the roped queries and keys and the values to the
    /// attention output [B·T, H·D] (the training kernel, or the key/value cache). The one block of <see cref="Forward"/> and
    /// <see cref="ForwardCached"/>.
    /// </summary>
    private Variable Block(Tape tape, Variable x, int layer, int B, int T, Tensor positions, Func<Variable, Variable, Variable, Variable> attend)
    {
        var blk = Blocks[layer];
        bool post = Config.PostNorm, gemma = Config.Gemma2;
        int heads = Config.HeadsOf(layer), kvHeads = Config.KvHeadsOf(layer), d = Config.HeadDim;
        var h = post ? x : Norm(tape, x, blk.AttnNorm);
        Variable q, k, v, gate, up;
        if (blk.Wqkv is { } qkv)
        {
            var parts = ProjectParts(tape, h, layer, Projection.Qkv, qkv, heads * d, kvHeads * d, kvHeads * d);
            q = RopedHeads(tape, parts[0], blk.QNorm, B, T, heads, positions);
            k = RopedHeads(tape, parts[1], blk.KNorm, B, T, kvHeads, positions);
            v = parts[2];
        }
        else
        {
            q = RopedHeads(tape, Project(tape, h, layer, Projection.Q, blk.Wq!, blk.Bq), blk.QNorm, B, T, heads, positions);
            k = RopedHeads(tape, Project(tape, h, layer, Projection.K, blk.Wk!, blk.Bk), blk.KNorm, B, T, kvHeads, positions);
            v = Project(tape, h, layer, Projection.V, blk.Wv!, blk.Bv);
        }
        var o = Project(tape, attend(q, k, v), layer, blk.Wqkv is null ? Projection.O : Projection.OutProj, blk.Wo, blk.Bo);
        x = tape.Add(x, post ? Norm(tape, o, blk.AttnNorm) : gemma ? Norm(tape, o, blk.PostAttnNorm!) : o);
        var m = post ? x : Norm(tape, x, blk.MlpNorm);
        if (blk.Proj1 is { } proj1)
        {
            int f = Config.FfnOf(layer);
            var parts = ProjectParts(tape, m, layer, Projection.Proj1, proj1, f, f);
            (gate, up) = (parts[0], parts[1]);
        }
        else
        {
            gate = Project(tape, m, layer, Projection.Gate, blk.Gate!);
            up = Project(tape, m, layer, Projection.Up, blk.Up!);
        }
        var act = gemma ? tape.Mul(tape.Gelu(gate, GeluApproximation.Tanh), up) : tape.SwiGlu(gate, up);
        var down = Project(tape, act, layer, blk.Proj1 is null ? Projection.Down : Projection.Proj2, blk.Down);
        return tape.Add(x, post ? Norm(tape, down, blk.MlpNorm) : gemma ? Norm(tape, down, blk.PostMlpNorm!) : down);
    }

    /// <summary>RMSNorm of x with gain w, or (1 + w) under Gemma-2.</summary>
    private Variable Norm(Tape tape, Variable x, Parameter w) =>
        tape.RmsNorm(x, Config.Gemma2 ? tape.Offset(w, 1f) : w, (float)Config.NormEps);

    /// <summary>The token embeddings of a batch, scaled by √C (rounded to float32) under Gemma-2.</summary>
    private Variable Embeddings(Tape tape, SequenceBatch batch)
    {
        var x = tape.Embedding(Embed, batch.Tokens, batch.HostTokens);
        return Config.Gemma2 ? tape.Scale(x, (float)Math.Sqrt(Config.DModel)) : x;
    }

    /// <summary>The last layer's hidden states after the final norm, [B·T, C].</summary>
    public Variable Forward(Tape tape, SequenceBatch batch)
    {
        var cfg = Config;
        int B = batch.B, T = batch.T, D = cfg.HeadDim;
        if (T > cfg.MaxLength || batch.HostPositions.Any(p => p < 0 || p >= cfg.MaxLength))
            throw new ArgumentException($"Sequence length {T} or a position exceeds the model's maximum length {cfg.MaxLength}.");
        var x = Embeddings(tape, batch);
        for (int l = 0; l < Blocks.Count; l++)
        {
            int window = cfg.WindowOf(l), H = cfg.HeadsOf(l), Hkv = cfg.KvHeadsOf(l);
            x = Block(tape, x, l, B, T, batch.Positions,
                (q, k, v) => tape.Attention(q, k, v, B, T, H, Hkv, D, batch.Segments, cfg.AttentionScale, (float)cfg.AttnSoftCap, window));
        }
        return Norm(tape, x, FinalNorm);
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
        int B = tokens.Length / tq, D = cfg.HeadDim, start = cache.Length;
        if (start + tq > cache.MaxLength) throw new ArgumentException($"Generation needs {start + tq} positions but the cache holds {cache.MaxLength}.");
        var positions = new int[B * tq];
        for (int i = 0; i < positions.Length; i++) positions[i] = start + i % tq;
        using var batch = new SequenceBatch(Device, B, tq, tokens, cfg.VocabSize, positions);
        var x = Embeddings(tape, batch);
        for (int l = 0; l < Blocks.Count; l++)
        {
            int layer = l, window = cfg.WindowOf(l), H = cfg.HeadsOf(l), Hkv = cfg.KvHeadsOf(l);
            x = Block(tape, x, l, B, tq, batch.Positions, (q, k, v) =>
            {
                Ops.CachedAttention.Append(k.Value.View, cache.Keys[layer].View, B, tq, start, cache.MaxLength, Hkv, D);
                Ops.CachedAttention.Append(v.Value.View, cache.Values[layer].View, B, tq, start, cache.MaxLength, Hkv, D);
                var a = tape.Output(false, B * tq, H * D);
                Ops.CachedAttention.Forward(q.Value.View, cache.Keys[layer].View, cache.Values[layer].View, a.Value.View, B, tq, start, cache.MaxLength, H, Hkv, D,
                    cfg.AttentionScale, (float)cfg.AttnSoftCap, window);
                return a;
            });
        }
        cache.Length = start + tq;
        return Norm(tape, x, FinalNorm);
    }

    /// <summary>Logits [rows, V] of hidden states [rows, C] through the LM head (tied or not), soft-capped under Gemma-2's
    /// <see cref="ModelConfig.FinalSoftCap"/>.</summary>
    public Variable Logits(Tape tape, Variable hidden)
    {
        var logits = tape.Linear(hidden, LmHead ?? Embed);
        return Config.FinalSoftCap > 0 ? tape.SoftCap(logits, (float)Config.FinalSoftCap) : logits;
    }

    /// <summary>Zeros every parameter's gradient (the attached hook's included).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
        foreach (var p in Hook?.Parameters ?? []) p.ZeroGrad();
    }

    /// <summary>Frees every parameter, the attached hook and the RoPE table.</summary>
    public void Dispose()
    {
        Hook?.Dispose();
        foreach (var p in _parameters) p.Dispose();
        Rope.Dispose();
    }
}
