namespace Wav2Vec2.Training;

/// <summary>
/// A learning-rate schedule as fairseq's schedulers define it: the rate set after <c>updates</c> completed updates
/// (fairseq's <c>step_update(num_updates)</c>). fairseq trains update k with <c>At(k - 1)</c>.
/// </summary>
public abstract record LearningRateSchedule
{
    /// <summary>The learning rate after <paramref name="updates"/> completed updates.</summary>
    public abstract float At(int updates);
}

/// <summary>
/// fairseq's polynomial_decay: linear warm-up from 0 to <see cref="PeakLearningRate"/> over <see cref="WarmupUpdates"/>,
/// then (peak - end) x (1 - progress)^power + end until <see cref="TotalUpdates"/>, then <see cref="EndLearningRate"/>.
/// </summary>
public sealed record PolynomialDecaySchedule(float PeakLearningRate, int WarmupUpdates, int TotalUpdates,
    float EndLearningRate = 0f, double Power = 1) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float At(int updates)
    {
        if (WarmupUpdates > 0 && updates <= WarmupUpdates)
            return PeakLearningRate * updates / WarmupUpdates;
        if (updates >= TotalUpdates)
            return EndLearningRate;
        double remaining = 1.0 - (double)(updates - WarmupUpdates) / Math.Max(1, TotalUpdates - WarmupUpdates);
        return (float)((PeakLearningRate - EndLearningRate) * Math.Pow(remaining, Power) + EndLearningRate);
    }
}

/// <summary>
/// fairseq's tri_stage schedule (the wav2vec 2.0 fine-tuning recipes): linear warm-up from
/// <see cref="InitialScale"/> x peak to the peak over <see cref="WarmupUpdates"/>, the peak for
/// <see cref="HoldUpdates"/>, exponential decay to <see cref="FinalScale"/> x peak over <see cref="DecayUpdates"/>, then
/// constant.
/// </summary>
public sealed record TriStageSchedule(float PeakLearningRate, int WarmupUpdates, int HoldUpdates, int DecayUpdates,
    double InitialScale = 0.01, double FinalScale = 0.05) : LearningRateSchedule
{
    /// <summary>The phases as fractions of <paramref name="maxUpdates"/> (fairseq's phase_ratio, e.g. 0.1, 0.4, 0.5).</summary>
    /// <exception cref="ArgumentException">The ratios are negative or do not add up to 1.</exception>
    public static TriStageSchedule FromPhaseRatios(float peakLearningRate, int maxUpdates, double warmup, double hold, double decay,
        double initialScale = 0.01, double finalScale = 0.05)
    {
        if (warmup < 0 || hold < 0 || decay < 0 || Math.Abs(warmup + hold + decay - 1) > 1e-6)
            throw new ArgumentException($"tri-stage phase ratios must be non-negative and add up to 1, got {warmup}, {hold}, {decay}");
        return new TriStageSchedule(peakLearningRate, (int)(maxUpdates * warmup), (int)(maxUpdates * hold),
            (int)(maxUpdates * decay), initialScale, finalScale);
    }

    /// <inheritdoc/>
    public override float At(int updates)
    {
        double initial = InitialScale * PeakLearningRate;
        if (updates < WarmupUpdates)
            return (float)(initial + (PeakLearningRate - initial) / WarmupUpdates * updates);
        if (updates < WarmupUpdates + HoldUpdates)
            return PeakLearningRate;
        int decayed = updates - WarmupUpdates - HoldUpdates;
        if (decayed <= DecayUpdates)
            return (float)(PeakLearningRate * Math.Exp(Math.Log(FinalScale) / Math.Max(1, DecayUpdates) * decayed));
        return (float)(FinalScale * PeakLearningRate);
    }
}
