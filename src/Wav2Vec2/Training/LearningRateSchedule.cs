namespace Wav2Vec2.Training;

/// <summary>
/// The shape of a learning-rate schedule as fairseq's schedulers define it, independent of the peak rate and the length
/// of the run (both come from <see cref="OptimizationOptions"/>): the rate set after <c>updates</c> completed updates
/// (fairseq's <c>step_update(num_updates)</c>). fairseq trains update k with the rate after k - 1 updates.
/// </summary>
public abstract record LearningRateSchedule
{
    private protected LearningRateSchedule()
    {
    }

    /// <summary>The learning rate after <paramref name="updates"/> completed updates of a run of
    /// <paramref name="maxUpdates"/> updates peaking at <paramref name="peakLearningRate"/>.</summary>
    public abstract float At(int updates, float peakLearningRate, int maxUpdates);

    /// <summary>Throws when the schedule cannot be followed.</summary>
    internal virtual void Validate()
    {
    }

    // Phases given as a fraction of the run, in whole updates (rounded down, as fairseq's phase_ratio).
    private protected static int Updates(double fraction, int maxUpdates) => (int)(maxUpdates * fraction);
}

/// <summary>
/// fairseq's polynomial_decay: linear warm-up from 0 to the peak over <see cref="WarmupUpdates"/> (or, when
/// <see cref="WarmupFraction"/> is set, that fraction of the run), then (peak - end) x (1 - progress)^power + end
/// until the last update.
/// </summary>
/// <example><code>
/// var schedule = new PolynomialDecaySchedule { WarmupUpdates = 32_000 };   // fairseq's wav2vec 2.0 pre-training
/// </code></example>
public sealed record PolynomialDecaySchedule : LearningRateSchedule
{
    /// <summary>Updates of linear warm-up (fairseq's warmup_updates).</summary>
    public int WarmupUpdates { get; init; }

    /// <summary>When positive, the warm-up is this fraction of the run instead (Hugging Face's warmup_ratio).</summary>
    public double WarmupFraction { get; init; }

    /// <summary>Learning rate reached at the last update.</summary>
    public float EndLearningRate { get; init; }

    /// <summary>Power of the decay (1: linear).</summary>
    public double Power { get; init; } = 1;

    /// <summary>Warm-up updates of a run of <paramref name="maxUpdates"/>.</summary>
    internal int WarmupFor(int maxUpdates) => WarmupFraction > 0 ? Updates(WarmupFraction, maxUpdates) : WarmupUpdates;

    /// <inheritdoc/>
    public override float At(int updates, float peakLearningRate, int maxUpdates)
    {
        int warmup = WarmupFor(maxUpdates);
        if (warmup > 0 && updates <= warmup)
            return peakLearningRate * updates / warmup;
        if (updates >= maxUpdates)
            return EndLearningRate;
        double remaining = 1.0 - (double)(updates - warmup) / Math.Max(1, maxUpdates - warmup);
        return (float)((peakLearningRate - EndLearningRate) * Math.Pow(remaining, Power) + EndLearningRate);
    }

    internal override void Validate()
    {
        if (WarmupUpdates < 0 || WarmupFraction is < 0 or >= 1 || double.IsNaN(WarmupFraction))
            throw new ArgumentException($"warm-up must be a non-negative number of updates or a fraction in [0, 1), got {WarmupUpdates} and {WarmupFraction}");
    }
}

/// <summary>
/// fairseq's tri_stage schedule (the wav2vec 2.0 fine-tuning recipes): linear warm-up from <see cref="InitialScale"/>
/// x peak to the peak over the first <see cref="WarmupFraction"/> of the run, the peak for <see cref="HoldFraction"/>,
/// exponential decay to <see cref="FinalScale"/> x peak over <see cref="DecayFraction"/>, then constant.
/// </summary>
/// <example><code>
/// var schedule = new TriStageSchedule { WarmupFraction = 0.1, HoldFraction = 0.4, DecayFraction = 0.5 };   // fairseq's phase_ratio
/// </code></example>
public sealed record TriStageSchedule : LearningRateSchedule
{
    /// <summary>Fraction of the run spent warming up (fairseq's phase_ratio[0]).</summary>
    public double WarmupFraction { get; init; } = 0.1;

    /// <summary>Fraction of the run at the peak.</summary>
    public double HoldFraction { get; init; } = 0.4;

    /// <summary>Fraction of the run decaying.</summary>
    public double DecayFraction { get; init; } = 0.5;

    /// <summary>Learning rate at update 0 as a fraction of the peak.</summary>
    public double InitialScale { get; init; } = 0.01;

    /// <summary>Learning rate at the end of the decay as a fraction of the peak.</summary>
    public double FinalScale { get; init; } = 0.05;

    /// <inheritdoc/>
    public override float At(int updates, float peakLearningRate, int maxUpdates)
    {
        int warmup = Updates(WarmupFraction, maxUpdates), hold = Updates(HoldFraction, maxUpdates), decay = Updates(DecayFraction, maxUpdates);
        double initial = InitialScale * peakLearningRate;
        if (updates < warmup)
            return (float)(initial + (peakLearningRate - initial) / warmup * updates);
        if (updates < warmup + hold)
            return peakLearningRate;
        int decayed = updates - warmup - hold;
        if (decayed <= decay)
            return (float)(peakLearningRate * Math.Exp(Math.Log(FinalScale) / Math.Max(1, decay) * decayed));
        return (float)(FinalScale * peakLearningRate);
    }

    internal override void Validate()
    {
        if (WarmupFraction < 0 || HoldFraction < 0 || DecayFraction < 0 || !(Math.Abs(WarmupFraction + HoldFraction + DecayFraction - 1) <= 1e-6))
            throw new ArgumentException($"tri-stage phase fractions must be non-negative and add up to 1, got {WarmupFraction}, {HoldFraction}, {DecayFraction}");
    }
}
