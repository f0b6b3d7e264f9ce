namespace Jepa.Training.Optim;

/// <summary>How the learning rate decays after warm-up.</summary>
public enum DecayKind
{
    /// <summary>Half a cosine from the peak to the floor.</summary>
    Cosine,
    /// <summary>A straight line from the peak to the floor.</summary>
    Linear,
    /// <summary>The peak rate throughout.</summary>
    Constant,
}

/// <summary>Linear warm-up to <see cref="Peak"/>, then cosine or linear decay to <see cref="Peak"/>·<see cref="FloorRatio"/> at <see cref="TotalSteps"/>.</summary>
/// <param name="Peak">The learning rate after warm-up.</param>
/// <param name="WarmupSteps">Steps of linear warm-up from Peak/WarmupSteps.</param>
/// <param name="TotalSteps">The step at which decay ends.</param>
/// <param name="Decay">The decay shape.</param>
/// <param name="FloorRatio">The final rate as a fraction of the peak.</param>
public sealed record LearningRateSchedule(double Peak, int WarmupSteps, int TotalSteps, DecayKind Decay = DecayKind.Cosine, double FloorRatio = 0.0)
{
    /// <summary>The rate for 1-based step <paramref name="step"/>.</summary>
    public double At(int step)
    {
        if (step < 1) step = 1;
        if (WarmupSteps > 0 && step <= WarmupSteps) return Peak * step / WarmupSteps;
        if (Decay == DecayKind.Constant) return Peak;
        int span = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((step - WarmupSteps) / (double)span, 0, 1);
        double floor = Peak * FloorRatio;
        double shape = Decay == DecayKind.Cosine ? 0.5 * (1 + Math.Cos(Math.PI * progress)) : 1 - progress;
        return floor + (Peak - floor) * shape;
    }
}
