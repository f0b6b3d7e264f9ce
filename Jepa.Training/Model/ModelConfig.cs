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
    bool RopeInterleaved = false)
{
    /// <summary>Per-head width, <c>DModel / Heads</c>.</summary>
    [JsonIgnore]
    public int HeadDim => DModel / Heads;

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
        if (DModel % Heads != 0)
            throw new ArgumentException($"Model config: {nameof(DModel)} ({DModel}) must be a multiple of {nameof(Heads)} ({Heads}).", nameof(DModel));
        if (Heads % KvHeads != 0)
            throw new ArgumentException($"Model config: {nameof(Heads)} ({Heads}) must be a multiple of {nameof(KvHeads)} ({KvHeads}).", nameof(KvHeads));
        if (HeadDim % 2 != 0)
            throw new ArgumentException($"Model config: the head width {nameof(DModel)}/{nameof(Heads)} = {HeadDim} must be even for RoPE.", nameof(Heads));
        if (!(RopeTheta > 0) || double.IsInfinity(RopeTheta))
            throw new ArgumentException($"Model config: {nameof(RopeTheta)} must be a positive finite number, got {RopeTheta}.", nameof(RopeTheta));
        if (!(NormEps > 0) || NormEps >= 1)
            throw new ArgumentException($"Model config: {nameof(NormEps)} must be in (0, 1), got {NormEps}.", nameof(NormEps));
        return this;
    }

    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount()
    {
        long c = DModel, kv = (long)KvHeads * HeadDim;
        long perLayer = 2 * c + c * c + 2 * c * kv + c * c + 3 * c * Ffn;
        return VocabSize * c + Layers * perLayer + c + (TieEmbeddings ? 0 : VocabSize * c);
    }

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
