namespace Wav2Vec2.Training;

/// <summary>
/// The knobs a user changes on top of a preset, mapped onto the groups of any recipe in one place: the command line's
/// flags and ML.NET's trainer options both become one of these (null: keep the recipe's value).
/// </summary>
/// <example><code>
/// CtcFineTuningOptions options = new TrainingOverrides { MaxUpdates = 1500, Seed = 3 }.ApplyTo(CtcFineTuningOptions.Presets["tiny"]);
/// </code></example>
public sealed record TrainingOverrides
{
    /// <summary>Updates to train. A run stretched or shrunk this way starts validating at the same fraction of the run
    /// (schedules given as fractions stretch by themselves).</summary>
    public int? MaxUpdates { get; init; }

    /// <summary>Batches accumulated per update.</summary>
    public int? UpdateFreq { get; init; }

    /// <summary>Peak learning rate.</summary>
    public float? LearningRate { get; init; }

    /// <summary>Updates of linear warm-up (a polynomial-decay schedule only).</summary>
    public int? WarmupUpdates { get; init; }

    /// <summary>Samples per batch: batch size x longest recording.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Recordings shorter than this many samples are skipped.</summary>
    public int? MinSampleSize { get; init; }

    /// <summary>Recordings are cropped to at most this many samples.</summary>
    public int? MaxSampleSize { get; init; }

    /// <summary>Seed of data order, masks, dropout and new weights.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Log every this many updates.</summary>
    public int? LogInterval { get; init; }

    /// <summary>Save a checkpoint every this many updates.</summary>
    public int? SaveInterval { get; init; }

    /// <summary>Validate every this many updates.</summary>
    public int? ValidateInterval { get; init; }

    /// <summary>Checkpoints kept (the newest).</summary>
    public int? KeepLastCheckpoints { get; init; }

    /// <summary>Probability of a frame starting a masked time span.</summary>
    public float? MaskTimeProb { get; init; }

    /// <summary>Probability of a channel starting a zeroed span.</summary>
    public float? MaskFeatureProb { get; init; }

    /// <summary>A copy of <paramref name="recipe"/> with the given knobs changed.</summary>
    /// <exception cref="ArgumentException">A warm-up is given for a schedule that has none in updates.</exception>
    public T ApplyTo<T>(T recipe) where T : TrainingOptions
    {
        OptimizationOptions optimization = recipe.Optimization;
        RunOptions run = recipe.Run;
        if (MaxUpdates is int updates)
            run = run with { ValidateAfterUpdates = (int)((long)run.ValidateAfterUpdates * updates / Math.Max(1, optimization.MaxUpdates)) };
        LearningRateSchedule schedule = (WarmupUpdates, optimization.Schedule) switch
        {
            (null, var unchanged) => unchanged,
            (int warmup, PolynomialDecaySchedule polynomial) => polynomial with { WarmupUpdates = warmup, WarmupFraction = 0 },
            (_, var other) => throw new ArgumentException($"a warm-up in updates does not apply to a {other.GetType().Name}", nameof(WarmupUpdates)),
        };
        return (T)(recipe with
        {
            Optimization = optimization with
            {
                MaxUpdates = MaxUpdates ?? optimization.MaxUpdates, UpdateFreq = UpdateFreq ?? optimization.UpdateFreq,
                LearningRate = LearningRate ?? optimization.LearningRate, Schedule = schedule,
            },
            Run = run with
            {
                Seed = Seed ?? run.Seed, LogInterval = LogInterval ?? run.LogInterval, SaveInterval = SaveInterval ?? run.SaveInterval,
                ValidateInterval = ValidateInterval ?? run.ValidateInterval, KeepLastCheckpoints = KeepLastCheckpoints ?? run.KeepLastCheckpoints,
            },
            Batching = recipe.Batching with
            {
                MaxTokens = MaxTokens ?? recipe.Batching.MaxTokens, MinSampleSize = MinSampleSize ?? recipe.Batching.MinSampleSize,
                MaxSampleSize = MaxSampleSize ?? recipe.Batching.MaxSampleSize,
            },
            Regularization = recipe.Regularization with
            {
                MaskTimeProb = MaskTimeProb ?? recipe.Regularization.MaskTimeProb,
                MaskFeatureProb = MaskFeatureProb ?? recipe.Regularization.MaskFeatureProb,
            },
        });
    }
}
