using Wav2Vec2.Data;

namespace Wav2Vec2.Training;

/// <summary>
/// What every training recipe has, in the groups fairseq's yaml uses: how the run is driven and recorded
/// (<see cref="Run"/>), how it optimises (<see cref="Optimization"/>), how recordings are batched
/// (<see cref="Batching"/>), and the model's regularisation (<see cref="Regularization"/>). The task recipes
/// (<see cref="PreTrainingOptions"/>, <see cref="CtcFineTuningOptions"/>, <see cref="SequenceClassificationOptions"/>)
/// add their own settings; <see cref="TrainingOverrides"/> changes the common knobs of any of them.
/// </summary>
public abstract record TrainingOptions
{
    private protected TrainingOptions()
    {
    }

    /// <summary>Seed, logging, validation and checkpoints.</summary>
    public RunOptions Run { get; init; } = new();

    /// <summary>Updates, learning rate and schedule, accumulation, clipping, Adam.</summary>
    public OptimizationOptions Optimization { get; init; } = new();

    /// <summary>Recording selection and batch sizes.</summary>
    public BatchingOptions Batching { get; init; } = new();

    /// <summary>Dropouts, layer drop, masks and the conv encoder's gradient scale, written into the model's config.</summary>
    public RegularizationOptions Regularization { get; init; } = new();

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting a run cannot follow.</summary>
    internal virtual void Validate()
    {
        Optimization.Schedule.Validate();
        foreach (var (name, value) in new[] { ("MaxUpdates", Optimization.MaxUpdates), ("UpdateFreq", Optimization.UpdateFreq),
            ("LogInterval", Run.LogInterval), ("MaxTokens", Batching.MaxTokens) })
            if (value < 1)
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1, got {value}");
        foreach (var (name, value) in new[] { ("SaveInterval", Run.SaveInterval), ("ValidateInterval", Run.ValidateInterval),
            ("KeepLastCheckpoints", Run.KeepLastCheckpoints), ("ValidateAfterUpdates", Run.ValidateAfterUpdates) })
            if (value < 0)
                throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative, got {value}");
        if (!(Optimization.LearningRate > 0))
            throw new ArgumentOutOfRangeException(nameof(Optimization.LearningRate), Optimization.LearningRate, "LearningRate must be positive");
    }
}
