using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jepa.Training.Model;

/// <summary>
/// Shape of a decoder-only Llama-family model. <see cref="Validate"/> names the first wrong field.
/// </summary>
/// <param name="VocabSize">Vocabulary size.</param>
/// <param name="DModel">Hidden width.</param>
/// <param name="Layers">Number of transformer blocks.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads (grouped-query attention; divides <paramref name="Heads"/>).</param>
/// <param name="Ffn">SwiGLU hidden width.</param>
/// <param name="RopeTheta">RoPE base θ.</param>
/// <param name="NormEps">RMSNorm ε.</param>
/// <param name="MaxLength">Longest sequence the model is used with.</param>
/// <param name="TieEmbeddings">True when the LM head shares the token-embedding matrix.</param>
/// <param name="RopeInterleaved">RoPE pairs (2i, 2i+1) when true; Hugging Face's rotate-half pairs (i, i + D/2) when false.</param>
/// <param name="HeadSize">Per-head width when it is not <c>DModel / Heads</c> (Hugging Face's <c>head_dim</c>); 0: <c>DModel / Heads</c>.</param>
/// <param name="QkvBias">True when the q, k and v projections carry biases (Qwen2; Llama's <c>attention_bias</c>).</param>
/// <param name="OutputBias">True when the attention output projection carries a bias (Llama's <c>attention_bias</c>).</param>
/// <param name="RopeScaling">Rescaled RoPE frequencies (Llama 3.1+), or null.</param>
/// <param name="QkNorm">True when each query and key head is RMS-normalised (gains of width <see cref="HeadDim"/>) after its
/// projection and before RoPE (Qwen3's <c>q_norm</c> and <c>k_norm</c>).</param>
/// <param name="QkNormAcrossHeads">With <paramref name="QkNorm"/>: one RMSNorm over the whole projected query (gains of width
/// heads × <see cref="HeadDim"/>) and key (key/value heads × <see cref="HeadDim"/>) rows instead of one per head (OLMo-2).</param>
/// <param name="PostNorm">OLMo-2's block: the two norms apply to the attention and feed-forward outputs inside the residual,
/// x + norm(attn(x)) and x + norm(mlp(x)), and nothing normalises their inputs (Llama's pre-norm: x + attn(norm(x))).</param>
/// <param name="Gemma2">Gemma-2's block: the token embeddings scaled by √<see cref="DModel"/>, RMSNorm gains stored as w and applied
/// as (1 + w), a norm both before and after attention and feed-forward (x + norm(attn(norm(x)))), and GeGLU
/// (tanh-GELU(gate) ⊙ up) in place of SwiGLU.</param>
/// <param name="QueryPreAttnScalar">With <see cref="Gemma2"/>: the attention scale is this^(−1/2) instead of
/// <see cref="HeadDim"/>^(−1/2); 0: the head width.</param>
/// <param name="AttnSoftCap">With <see cref="Gemma2"/>: attention scores soft-capped to c·tanh(s / c); 0: none.</param>
/// <param name="FinalSoftCap">With <see cref="Gemma2"/>: logits soft-capped to c·tanh(z / c); 0: none.</param>
/// <param name="SlidingWindow">With <see cref="Gemma2"/>: layers 0, 2, 4, … attend to their last this many tokens (the
/// others to every earlier token); 0: no window.</param>
/// <param name="OpenElm">OpenELM's layout (<c>OpenELMForCausalLM</c>): one fused <c>qkv_proj</c> whose rows are the query, key
/// and value heads in that order, one fused <c>proj_1</c> whose rows are the gate then the up projection, and OpenELM's
/// tensor names (<c>transformer.layers.N.attn.qkv_proj</c>…). The arithmetic is Llama's (with per-head q/k norms when
/// <see cref="QkNorm"/>).</param>
/// <param name="LayerScaling">With <see cref="OpenElm"/>: OpenELM's layer-wise scaling, which sets each layer's query heads,
/// key/value heads and feed-forward width; <see cref="Heads"/>, <see cref="KvHeads"/> and <see cref="Ffn"/> are then their
/// maxima and <see cref="HeadSize"/> is set. Null: every layer has <see cref="Heads"/>, <see cref="KvHeads"/> and
/// <see cref="Ffn"/>.</param>
public sealed record ModelConfig(
    int VocabSize,
    int DModel,
    int Layers,
    int Heads,
    int KvHeads,
    int Ffn,
    double RopeTheta = 10000.0,
    double NormEps = 1e-5,
    int MaxLength = 512,
    bool TieEmbeddings = false,
    bool RopeInterleaved = false,
    int HeadSize = 0,
    bool QkvBias = false,
    bool OutputBias = false,
    RopeScaling? RopeScaling = null,
    bool QkNorm = false,
    bool QkNormAcrossHeads = false,
    bool PostNorm = false,
    bool Gemma2 = false,
    double QueryPreAttnScalar = 0,
    double AttnSoftCap = 0,
    double FinalSoftCap = 0,
    int SlidingWindow = 0,
    bool OpenElm = false,
    LayerScaling? LayerScaling = null)
{
    /// <summary>Query heads of layer <paramref name="layer"/>.</summary>
    public int HeadsOf(int layer) => LayerScaling?.QueryHeads(Layers, DModel, HeadDim)[layer] ?? Heads;

    /// <summary>Key/value heads of layer <paramref name="layer"/>.</summary>
    public int KvHeadsOf(int layer) => LayerScaling?.KvHeads(Layers, DModel, HeadDim)[layer] ?? KvHeads;

    /// <summary>Feed-forward width of layer <paramref name="layer"/>.</summary>
    public int FfnOf(int layer) => LayerScaling?.Ffn(Layers, DModel)[layer] ?? Ffn;

    /// <summary>Per-head width: <see cref="HeadSize"/> when set, else <c>DModel / Heads</c>.</summary>
    [JsonIgnore]
    public int HeadDim => HeadSize > 0 ? HeadSize : DModel / Heads;

    /// <summary>The RoPE inverse frequencies of this model (rescaled when <see cref="RopeScaling"/> is set).</summary>
    public double[] RopeInverseFrequencies() =>
        RopeScaling?.InverseFrequencies(HeadDim, RopeTheta) ?? Kernels.RopeTable.InverseFrequencies(HeadDim, RopeTheta);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field and why.</summary>
    public ModelConfig Validate()
    {
        static void Positive(string name, long v)
        {
            if (v <= 0) throw new ArgumentException($"Model config: {name} must be positive, got {v}.", name);
        }
        Positive(nameof(VocabSize), VocabSize);
        Positive(nameof(DModel), DModel);
        Positive(nameof(Layers), Layers);
        Positive(nameof(Heads), Heads);
        Positive(nameof(KvHeads), KvHeads);
        Positive(nameof(Ffn), Ffn);
        Positive(nameof(MaxLength), MaxLength);
        if (HeadSize < 0)
            throw new ArgumentException($"Model config: {nameof(HeadSize)} must be 0 (DModel / Heads) or positive, got {HeadSize}.", nameof(HeadSize));
        if (HeadSize == 0 && DModel % Heads != 0)
            throw new ArgumentException($"Model config: {nameof(DModel)} ({DModel}) must be a multiple of {nameof(Heads)} ({Heads}).", nameof(DModel));
        if (Heads % KvHeads != 0)
            throw new ArgumentException($"Model config: {nameof(Heads)} ({Heads}) must be a multiple of {nameof(KvHeads)} ({KvHeads}).", nameof(KvHeads));
        if (HeadDim % 2 != 0)
            throw new ArgumentException($"Model config: the head width {HeadDim} must be even for RoPE.", nameof(Heads));
        if (!(RopeTheta > 0) || double.IsInfinity(RopeTheta))
            throw new ArgumentException($"Model config: {nameof(RopeTheta)} must be a positive finite number, got {RopeTheta}.", nameof(RopeTheta));
        if (!(NormEps > 0) || NormEps >= 1)
            throw new ArgumentException($"Model config: {nameof(NormEps)} must be in (0, 1), got {NormEps}.", nameof(NormEps));
        if (OutputBias && !QkvBias)
            throw new ArgumentException($"Model config: {nameof(OutputBias)} needs {nameof(QkvBias)} (no Hugging Face family biases only the output projection).", nameof(OutputBias));
        if (QkNorm && QkvBias != OutputBias)
            throw new ArgumentException($"Model config: {nameof(QkNorm)} (Qwen3) biases either all four attention projections or none ({nameof(QkvBias)} {QkvBias}, {nameof(OutputBias)} {OutputBias}).", nameof(OutputBias));
        if (QkNormAcrossHeads && !QkNorm)
            throw new ArgumentException($"Model config: {nameof(QkNormAcrossHeads)} says how the q/k norms span the heads, so it needs {nameof(QkNorm)}.", nameof(QkNormAcrossHeads));
        if (PostNorm != QkNormAcrossHeads)
            throw new ArgumentException($"Model config: {nameof(PostNorm)} and {nameof(QkNormAcrossHeads)} (with {nameof(QkNorm)}) are OLMo-2's block together; no Hugging Face family has one without the other ({nameof(PostNorm)} {PostNorm}, {nameof(QkNormAcrossHeads)} {QkNormAcrossHeads}).", nameof(PostNorm));
        foreach (var (name, value) in new[] { (nameof(QueryPreAttnScalar), QueryPreAttnScalar), (nameof(AttnSoftCap), AttnSoftCap),
            (nameof(FinalSoftCap), FinalSoftCap), (nameof(SlidingWindow), (double)SlidingWindow) })
        {
            if (!(value >= 0) || double.IsInfinity(value))
                throw new ArgumentException($"Model config: {name} must be 0 (off) or a positive finite number, got {value}.", name);
            if (value > 0 && !Gemma2)
                throw new ArgumentException($"Model config: {name} is a Gemma-2 setting and needs {nameof(Gemma2)}.", name);
        }
        if (Gemma2 && (PostNorm || QkNorm))
            throw new ArgumentException($"Model config: {nameof(Gemma2)} has neither q/k norms nor OLMo-2's post-norm block.", nameof(Gemma2));
        if (OpenElm && (QkvBias || PostNorm || Gemma2 || QkNormAcrossHeads))
            throw new ArgumentException($"Model config: {nameof(OpenElm)} has no biases, no post-norm block, no Gemma-2 features and per-head q/k norms.", nameof(OpenElm));
        if (OpenElm && NormEps != OpenElmConfig.NormEps)
            throw new ArgumentException($"Model config: OpenELM's norms use ε {OpenElmConfig.NormEps} (its config has no key for another), got {NormEps}.", nameof(NormEps));
        if (OpenElm && LayerScaling is null)
            throw new ArgumentException($"Model config: {nameof(OpenElm)} needs its {nameof(LayerScaling)} (qkv and ffn multipliers, groups, divisor).", nameof(LayerScaling));
        if (LayerScaling is { } ls)
        {
            if (!OpenElm)
                throw new ArgumentException($"Model config: {nameof(LayerScaling)} (per-layer widths) is OpenELM's and needs {nameof(OpenElm)}.", nameof(LayerScaling));
            if (HeadSize <= 0)
                throw new ArgumentException($"Model config: {nameof(LayerScaling)} needs an explicit {nameof(HeadSize)} (the layers' head counts differ).", nameof(HeadSize));
            ls.Validate(Layers, DModel, HeadDim);
            int[] heads = ls.QueryHeads(Layers, DModel, HeadDim), kvHeads = ls.KvHeads(Layers, DModel, HeadDim), ffn = ls.Ffn(Layers, DModel);
            if (Heads != heads.Max() || KvHeads != kvHeads.Max() || Ffn != ffn.Max())
                throw new ArgumentException($"Model config: with {nameof(LayerScaling)}, {nameof(Heads)}, {nameof(KvHeads)} and {nameof(Ffn)} must be the layers' maxima ({heads.Max()}, {kvHeads.Max()}, {ffn.Max()}), got {Heads}, {KvHeads}, {Ffn}.", nameof(LayerScaling));
        }
        RopeScaling?.Validate();
        long c = DModel, q = (long)Heads * HeadDim, kv = (long)KvHeads * HeadDim;
        foreach (var (what, n) in new[] { ("the embedding (vocab_size × d_model)", VocabSize * c), ("a query projection (heads × head width × d_model)", q * c),
            ("a key/value projection", kv * c), ("a SwiGLU projection (ffn × d_model)", Ffn * c) })
            if (n > int.MaxValue)
                throw new ArgumentException($"Model config: {what} would hold {n:N0} elements; one tensor holds at most {int.MaxValue:N0}.", nameof(DModel));
        if (Layers > 100_000) throw new ArgumentException($"Model config: {nameof(Layers)} {Layers} is beyond any model this framework can hold.", nameof(Layers));
        return this;
    }

    /// <summary>Bytes to train this model with AdamW in float32: weights, gradients and two moments (activations not counted).</summary>
    public long TrainingBytes() => checked(ParameterCount() * 16);

    /// <summary>
    /// A lower bound on the bytes of activations one training step keeps for its backward pass through the next-token pass of
    /// <paramref name="batch"/> sequences of <paramref name="length"/> tokens, in float32: per token and layer the block's input,
    /// its two norm outputs, q, k, v, the attention output, the gate, up and activated feed-forward states (the attention keeps
    /// only its row log-sum-exp, not the T × T scores), with <see cref="QkNorm"/> the normalised q and k, plus the final norm and one row of logits. The JEPA views, temporary
    /// buffers and gradients come on top.
    /// </summary>
    public long ActivationBytes(int batch, int length)
    {
        long c = DModel, perToken = c + VocabSize;
        for (int l = 0; l < Layers; l++)
        {
            long q = (long)HeadsOf(l) * HeadDim, kv = (long)KvHeadsOf(l) * HeadDim;
            perToken += 3 * c + 2 * q + 2 * kv + 3L * FfnOf(l) + (QkNorm ? q + kv : 0) + (Gemma2 ? 2 * c : 0);
        }
        return checked((long)batch * length * perToken * sizeof(float));
    }

    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount()
    {
        long c = DModel, total = VocabSize * c + c + (TieEmbeddings ? 0 : VocabSize * c);
        for (int l = 0; l < Layers; l++)
        {
            long q = (long)HeadsOf(l) * HeadDim, kv = (long)KvHeadsOf(l) * HeadDim;
            var (qn, kn) = QkNormWidthsOf(l);
            total += 2 * c + c * q + 2 * c * kv + q * c + 3 * c * FfnOf(l) + (QkvBias ? q + 2 * kv : 0) + (OutputBias ? c : 0) + qn + kn + (Gemma2 ? 2 * c : 0);
        }
        return total;
    }

    /// <summary>The sliding window of layer <paramref name="layer"/>: <see cref="SlidingWindow"/> on even layers (Gemma-2), else 0.</summary>
    public int WindowOf(int layer) => SlidingWindow > 0 && layer % 2 == 0 ? SlidingWindow : 0;

    /// <summary>The attention scale: <see cref="QueryPreAttnScalar"/>^(−1/2) when set, else null (the kernels' 1/√D).</summary>
    [JsonIgnore]
    public float? AttentionScale => QueryPreAttnScalar > 0 ? (float)(1 / Math.Sqrt(QueryPreAttnScalar)) : null;

    /// <summary>Widths of the query and key norm gains (0 without <see cref="QkNorm"/>).</summary>
    [JsonIgnore]
    public (int Q, int K) QkNormWidths => QkNormWidthsOf(0);

    /// <summary>Widths of layer <paramref name="layer"/>'s query and key norm gains (0 without <see cref="QkNorm"/>).</summary>
    public (int Q, int K) QkNormWidthsOf(int layer) =>
        !QkNorm ? (0, 0) : QkNormAcrossHeads ? (HeadsOf(layer) * HeadDim, KvHeadsOf(layer) * HeadDim) : (HeadDim, HeadDim);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The config as indented JSON with snake_case names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses and validates a config written by <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidDataException">The JSON is malformed or misses a field.</exception>
    public static ModelConfig FromJson(string json, string source = "config")
    {
        try
        {
            return (JsonSerializer.Deserialize<ModelConfig>(json, Json) ?? throw new InvalidDataException($"{source}: empty model config.")).Validate();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid model config JSON ({e.Message}).", e);
        }
    }
}
