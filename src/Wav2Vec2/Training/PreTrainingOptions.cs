using Wav2Vec2.Data;

namespace Wav2Vec2.Training;

/// <summary>
/// Optimisation settings of pre-training, with fairseq's wav2vec2_base_librispeech defaults (Adam (0.9, 0.98), eps 1e-6,
/// weight decay 0.01, peak lr 5e-4, 8% linear warm-up then linear decay to 0, no clipping, 1.4M samples per batch,
/// Gumbel temperature max(2 x 0.999995^update, 0.5)).
/// </summary>
public sealed record PreTrainingOptions
{
    /// <summary>Updates to train (each one accumulates <see cref="UpdateFreq"/> batches).</summary>
    public int MaxUpdates { get; init; } = 400_000;
    /// <summary>Batches accumulated per update, to simulate larger batches.</summary>
    public int UpdateFreq { get; init; } = 1;
    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; init; } = 5e-4f;
    /// <summary>Fraction of <see cref="MaxUpdates"/> spent warming up linearly.</summary>
    public double WarmupFraction { get; init; } = 0.08;
    /// <summary>Gradient-norm clipping threshold (0: off, fairseq's default for BASE).</summary>
    public double ClipNorm { get; init; }
    /// <summary>Seed of data order, crops, masks, distractors, dropout and Gumbel noise.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Save a checkpoint every this many updates (0: only at the end).</summary>
    public int SaveInterval { get; init; }
    /// <summary>Validate every this many updates (when a validation set is given).</summary>
    public int ValidateInterval { get; init; } = 1000;
    /// <summary>Write a log line every this many updates.</summary>
    public int LogInterval { get; init; } = 1;
    /// <summary>Recording selection and batch sizes.</summary>
    public BatchingOptions Batching { get; init; } = new();
    /// <summary>AdamW hyper-parameters (the learning rate here is overridden by the schedule).</summary>
    public AdamWOptions Optimizer { get; init; } = new();
    /// <summary>Gumbel temperature at update 0.</summary>
    public double MaxTemperature { get; init; } = 2.0;
    /// <summary>Lowest Gumbel temperature.</summary>
    public double MinTemperature { get; init; } = 0.5;
    /// <summary>Per-update temperature decay.</summary>
    public double TemperatureDecay { get; init; } = 0.999995;
    /// <summary>Scale of the gradient flowing into the conv feature encoder (fairseq feature_grad_mult).</summary>
    public float FeatureGradMult { get; init; } = 0.1f;
    /// <summary>Weight of the conv feature penalty (fairseq's second loss weight).</summary>
    public float FeaturePenaltyWeight { get; init; } = 10f;
    /// <summary>Warn when code perplexity stays below this fraction of G x V ...</summary>
    public double CollapseFraction { get; init; } = 0.1;
    /// <summary>... for this many consecutive logged updates (codebook collapse).</summary>
    public int CollapseIntervals { get; init; } = 5;

    /// <summary>
    /// Presets: "base" (fairseq wav2vec2_base_librispeech), "large" (wav2vec2_large_librivox: lr 5e-3 over 1M updates
    /// with 32k warm-up, 1.2M samples per batch, crops of 320000, temperature down to 0.1, no feature penalty, full
    /// gradient into the conv encoder) and "tiny" (the base recipe with 256000 samples per batch).
    /// </summary>
    public static PreTrainingOptions Preset(string name) => name switch
    {
        "base" => new PreTrainingOptions(),
        "tiny" => new PreTrainingOptions { Batching = new BatchingOptions { MaxTokens = 256_000 } },
        "large" => new PreTrainingOptions
        {
            MaxUpdates = 1_000_000, LearningRate = 5e-3f, WarmupFraction = 0.032, MinTemperature = 0.1,
            FeatureGradMult = 1f, FeaturePenaltyWeight = 0f,
            Batching = new BatchingOptions { MaxTokens = 1_200_000, MaxSampleSize = 320_000 },
        },
        _ => throw new ArgumentException($"unknown preset '{name}' (base, large, tiny)"),
    };

    /// <summary>The schedule: linear warm-up over <see cref="WarmupFraction"/> of the updates, then linear decay to 0.</summary>
    public PolynomialDecaySchedule Schedule =>
        new(LearningRate, Math.Max(1, (int)Math.Round(WarmupFraction * MaxUpdates)), MaxUpdates);

    /// <summary>Learning rate of update <paramref name="update"/> (1-based): linear warm-up to the peak, then linear decay to 0.</summary>
    public float LearningRateAt(int update) => Schedule.At(update);

    /// <summary>Gumbel temperature after <paramref name="updates"/> completed updates.</summary>
    public float TemperatureAt(int updates) => (float)Math.Max(MaxTemperature * Math.Pow(TemperatureDecay, updates), MinTemperature);
}
