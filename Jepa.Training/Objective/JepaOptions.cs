using Jepa.Kernels;

namespace Jepa.Training.Objective;

/// <summary>How the two view embeddings are computed.</summary>
public enum ViewEncoding
{
    /// <summary>Two extra forward passes, one per view (the paper's default).</summary>
    Separate,
    /// <summary>One extra pass over [Text+PRED ‖ Code] with block-causal attention through per-token segment ids.</summary>
    Single,
}

/// <summary>What the target view's embedding is taken from.</summary>
public enum TargetEncoder
{
    /// <summary>The model itself, with gradients through both views (the paper).</summary>
    Shared,
    /// <summary>The model itself, but no gradient flows into the target embedding.</summary>
    StopGradient,
    /// <summary>An exponential moving average of the model's weights, as in I-JEPA (no gradient).</summary>
    Ema,
}

/// <summary>
/// The LLM-JEPA objective: L = γ·L_LLM + λ·d(Pred(Enc(Text)), Enc(Code)), with every option of the paper's code.
/// λ = 0 is the plain next-token baseline (no extra passes).
/// </summary>
public sealed record JepaOptions
{
    /// <summary>γ, the weight of the next-token loss.</summary>
    public float Gamma { get; init; } = 1f;

    /// <summary>λ, the weight of the JEPA term; 0 gives the next-token baseline.</summary>
    public float Lambda { get; init; } = 1f;

    /// <summary>k, the number of [PRED] tokens; 0 makes Pred the identity.</summary>
    public int Predictors { get; init; } = 1;

    /// <summary>Put the predictor tokens before the Text view instead of after it.</summary>
    public bool FrontPred { get; init; }

    /// <summary>Which token's hidden state embeds a view, as an offset from the end: −1 is the last token.</summary>
    public int LastTokenOffset { get; init; } = -1;

    /// <summary>The distance d.</summary>
    public JepaDistanceKind Distance { get; init; } = JepaDistanceKind.Cosine;

    /// <summary>InfoNCE temperature.</summary>
    public float Temperature { get; init; } = JepaDistance.DefaultTemperature;

    /// <summary>Swap the views: the Code view predicts the Text view.</summary>
    public bool ReversePred { get; init; }

    /// <summary>Separate passes or one block-causal pass for the views.</summary>
    public ViewEncoding Views { get; init; } = ViewEncoding.Separate;

    /// <summary>Probability that a step skips the JEPA term and its extra passes.</summary>
    public float JepaDropout { get; init; }

    /// <summary>The target encoder.</summary>
    public TargetEncoder Target { get; init; } = TargetEncoder.Shared;

    /// <summary>EMA decay of the target encoder's weights (with <see cref="TargetEncoder.Ema"/>).</summary>
    public float EmaDecay { get; init; } = 0.996f;

    /// <summary>True when the JEPA term is on at all.</summary>
    public bool UsesJepa => Lambda != 0f;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public JepaOptions Validate(int availablePredictorTokens)
    {
        if (!float.IsFinite(Gamma) || Gamma < 0) throw new ArgumentException($"JEPA option gamma must be ≥ 0, got {Gamma}.", nameof(Gamma));
        if (!float.IsFinite(Lambda) || Lambda < 0) throw new ArgumentException($"JEPA option lambda must be ≥ 0, got {Lambda}.", nameof(Lambda));
        if (Predictors < 0 || Predictors > availablePredictorTokens)
            throw new ArgumentException($"JEPA option predictors must be between 0 and {availablePredictorTokens} (the tokenizer's [PRED] tokens), got {Predictors}.", nameof(Predictors));
        if (LastTokenOffset >= 0) throw new ArgumentException($"JEPA option last-token must be negative (−1 is the last token), got {LastTokenOffset}.", nameof(LastTokenOffset));
        if (!(JepaDropout >= 0 && JepaDropout <= 1)) throw new ArgumentException($"JEPA option jepa-dropout must be in [0, 1], got {JepaDropout}.", nameof(JepaDropout));
        if (!(Temperature > 0)) throw new ArgumentException($"JEPA option temperature must be positive, got {Temperature}.", nameof(Temperature));
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new ArgumentException($"JEPA option ema-decay must be in [0, 1), got {EmaDecay}.", nameof(EmaDecay));
        return this;
    }
}
