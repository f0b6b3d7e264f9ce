using Jepa.Training.Model;

namespace Jepa.Training.Lora;

/// <summary>
/// LoRA hyper-parameters (Hu et al., 2021), as Hugging Face PEFT's <c>LoraConfig</c> names them: every targeted projection
/// W of every layer gets y = x·Wᵀ (+b) + (α/r)·(dropout(x)·Aᵀ)·Bᵀ with A [r, in] and B [out, r].
/// </summary>
public sealed record LoraOptions
{
    /// <summary>The projections LoRA can adapt (<see cref="Projections.Names"/>): the Llama family's seven, then OpenELM's four
    /// (its fused <c>qkv_proj</c> and <c>proj_1</c>, <c>out_proj</c> and <c>proj_2</c>). A model has one set or the other
    /// (<see cref="LlamaModel.ProjectionKinds"/>).</summary>
    public static IReadOnlyList<string> AllTargets => Projections.Names;

    /// <summary>Every projection of a Llama-family block (Llama, Qwen, Mistral, OLMo-2, Gemma-2): the first seven of
    /// <see cref="AllTargets"/>.</summary>
    public static IReadOnlyList<string> LlamaTargets { get; } = [.. Projections.Names.Take(7)];

    /// <summary>The rank r of A [r, in] and B [out, r] (PEFT's <c>r</c>).</summary>
    public int Rank { get; init; } = 8;

    /// <summary>The scale numerator α: the update is scaled by α/r (PEFT's <c>lora_alpha</c>).</summary>
    public float Alpha { get; init; } = 16f;

    /// <summary>Dropout on the adapter's input during training, in [0, 1) (PEFT's <c>lora_dropout</c>).</summary>
    public float Dropout { get; init; }

    /// <summary>The adapted projections, a non-empty subset of <see cref="AllTargets"/> (PEFT's <c>target_modules</c>).</summary>
    public IReadOnlyList<string> Targets { get; init; } = ["q_proj", "v_proj"];

    /// <summary>α/r.</summary>
    public float Scale => Alpha / Rank;

    /// <summary>Checks every field and returns this.</summary>
    /// <exception cref="ArgumentException">A field is out of range; the message names it.</exception>
    public LoraOptions Validate()
    {
        if (Rank <= 0) throw new ArgumentException($"LoRA {nameof(Rank)} must be positive, got {Rank}.");
        if (!(Alpha > 0f) || !float.IsFinite(Alpha)) throw new ArgumentException($"LoRA {nameof(Alpha)} must be positive and finite, got {Alpha}.");
        if (!(Dropout >= 0f && Dropout < 1f)) throw new ArgumentException($"LoRA {nameof(Dropout)} must be in [0, 1), got {Dropout}.");
        if (Targets is null || Targets.Count == 0)
            throw new ArgumentException($"LoRA {nameof(Targets)} must name at least one of {string.Join(", ", AllTargets)}.");
        foreach (var t in Targets)
            if (!AllTargets.Contains(t))
                throw new ArgumentException($"LoRA {nameof(Targets)}: '{t}' is not a projection LoRA can adapt ({string.Join(", ", AllTargets)}).");
        var dup = Targets.GroupBy(t => t).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"LoRA {nameof(Targets)}: '{dup.Key}' is listed twice.");
        return this;
    }

    /// <summary>Whether <paramref name="other"/> has the same rank, α, dropout and set of targets (order aside).</summary>
    public bool SameAs(LoraOptions other) =>
        Rank == other.Rank && Alpha == other.Alpha && Dropout == other.Dropout &&
        Targets.Order(StringComparer.Ordinal).SequenceEqual(other.Targets.Order(StringComparer.Ordinal));

    /// <summary>A readable summary (the targets spelled out).</summary>
    public string Describe() => $"r={Rank}, alpha={Alpha}, dropout={Dropout}, targets=[{string.Join(", ", Targets)}]";
}
