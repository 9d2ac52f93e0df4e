namespace Wav2Vec2.Training;

/// <summary>
/// The optimisation of a training run (fairseq's optimization:, optimizer: and lr_scheduler: groups): how many
/// updates, the peak learning rate and its schedule, gradient accumulation and clipping, and Adam's settings.
/// </summary>
/// <example><code>
/// var optimization = new OptimizationOptions { MaxUpdates = 2000, LearningRate = 1e-3f, Schedule = new PolynomialDecaySchedule { WarmupFraction = 0.08 } };
/// </code></example>
public sealed record OptimizationOptions
{
    /// <summary>Updates to train (each accumulates <see cref="UpdateFreq"/> batches).</summary>
    public int MaxUpdates { get; init; } = 1000;

    /// <summary>Batches accumulated per update, to simulate larger batches (fairseq: one per GPU).</summary>
    public int UpdateFreq { get; init; } = 1;

    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; init; } = 5e-4f;

    /// <summary>How the learning rate moves between 0 and the peak over the run.</summary>
    public LearningRateSchedule Schedule { get; init; } = new PolynomialDecaySchedule();

    /// <summary>Gradient-norm clipping threshold (0: off).</summary>
    public double ClipNorm { get; init; }

    /// <summary>Adam's hyper-parameters (its learning rate is set by the schedule at every update).</summary>
    public AdamWOptions Optimizer { get; init; } = new();

    /// <summary>The learning rate of update <paramref name="update"/> (1-based): the rate set after update - 1, as fairseq
    /// steps its scheduler, so update 1 of a warm-up from 0 trains at 0.</summary>
    public float LearningRateAt(int update) => Schedule.At(update - 1, LearningRate, MaxUpdates);
}
