using Wav2Vec2.Data;

namespace Wav2Vec2.Training;

/// <summary>
/// CTC fine-tuning settings. The defaults are fairseq's base_10m recipe (examples/wav2vec/config/finetuning): Adam
/// (0.9, 0.98), eps 1e-8, no weight decay, no clipping, peak lr 5e-5 on a tri-stage schedule (10% warm-up from 0.01 x
/// peak, 40% hold, 50% exponential decay to 0.05 x peak), only the CTC head trained for the first 10000 updates, the
/// conv encoder frozen, time masks (p 0.65, spans of 10) with the learned mask embedding and channel masks (p 0.25,
/// spans of 64) zeroing features, layer drop 0.1, activation dropout 0.1, the other dropouts 0, losses summed and
/// divided by the number of utterances (sentence_avg), validation by greedy WER keeping the best model.
/// fairseq trains these recipes on 2 GPUs with update_freq 4 (8 batches of up to 3.2M samples per update): on one
/// machine set <see cref="UpdateFreq"/> to 8 for the same effective batch.
/// </summary>
public sealed record CtcFineTuningOptions
{
    /// <summary>Updates to train.</summary>
    public int MaxUpdates { get; init; } = 13_000;
    /// <summary>Batches accumulated per update.</summary>
    public int UpdateFreq { get; init; } = 1;
    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; init; } = 5e-5f;
    /// <summary>Fractions of <see cref="MaxUpdates"/> for warm-up, hold and decay (fairseq's phase_ratio).</summary>
    public (double Warmup, double Hold, double Decay) PhaseRatios { get; init; } = (0.1, 0.4, 0.5);
    /// <summary>Learning rate at update 0 as a fraction of the peak.</summary>
    public double InitialLearningRateScale { get; init; } = 0.01;
    /// <summary>Learning rate at the end of the decay as a fraction of the peak.</summary>
    public double FinalLearningRateScale { get; init; } = 0.05;
    /// <summary>Updates during which only the CTC head trains (fairseq's freeze_finetune_updates).</summary>
    public int FreezeFineTuneUpdates { get; init; } = 10_000;
    /// <summary>Scale of the gradient into the conv feature encoder; 0 freezes it (fairseq's feature_grad_mult).</summary>
    public float FeatureGradMult { get; init; }
    /// <summary>Probability of a frame starting a masked time span (fairseq mask_prob; Hugging Face mask_time_prob).</summary>
    public float MaskTimeProb { get; init; } = 0.65f;
    /// <summary>Frames per masked time span.</summary>
    public int MaskTimeLength { get; init; } = 10;
    /// <summary>Minimum masked time spans per utterance.</summary>
    public int MaskTimeMinMasks { get; init; } = 2;
    /// <summary>Probability of a channel starting a zeroed span (fairseq mask_channel_prob; Hugging Face mask_feature_prob).</summary>
    public float MaskFeatureProb { get; init; } = 0.25f;
    /// <summary>Channels per zeroed span.</summary>
    public int MaskFeatureLength { get; init; } = 64;
    /// <summary>Probability of skipping a Transformer layer in training.</summary>
    public float LayerDrop { get; init; } = 0.1f;
    /// <summary>Dropout after the feed-forward activation.</summary>
    public float ActivationDropout { get; init; } = 0.1f;
    /// <summary>Dropout on residual branches (fairseq's dropout).</summary>
    public float HiddenDropout { get; init; }
    /// <summary>Dropout on attention probabilities.</summary>
    public float AttentionDropout { get; init; }
    /// <summary>Dropout after the feature projection (fairseq's dropout_input).</summary>
    public float FeatProjDropout { get; init; }
    /// <summary>Dropout before the CTC head.</summary>
    public float FinalDropout { get; init; }
    /// <summary>Gradient-norm clipping threshold (0: off).</summary>
    public double ClipNorm { get; init; }
    /// <summary>Adam hyper-parameters (the learning rate comes from the schedule).</summary>
    public AdamWOptions Optimizer { get; init; } = new() { Epsilon = 1e-8f, WeightDecay = 0f };
    /// <summary>Batches of whole utterances padded to their longest, up to 3.2M samples each (fairseq max_tokens).</summary>
    public BatchingOptions Batching { get; init; } = new() { PadToLongest = true, MaxTokens = 3_200_000, MaxSampleSize = int.MaxValue, MinSampleSize = 0 };
    /// <summary>Seed of data order, masks, dropout and the new head.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Validate (and keep the best model by <see cref="BestModelMetric"/>) every this many updates, when a validation set is given.</summary>
    public int ValidateInterval { get; init; } = 50;
    /// <summary>The validation figure that picks best/ (default WER, as fairseq).</summary>
    public BestModelMetric BestModelMetric { get; init; } = BestModelMetric.WordErrorRate;
    /// <summary>No validation before this update.</summary>
    public int ValidateAfterUpdates { get; init; } = 10_000;
    /// <summary>Save a checkpoint every this many updates (0: only at the end).</summary>
    public int SaveInterval { get; init; } = 50;
    /// <summary>Checkpoints kept (the newest); best/ and final/ are kept apart.</summary>
    public int KeepLastCheckpoints { get; init; } = 1;
    /// <summary>Write a log line every this many updates.</summary>
    public int LogInterval { get; init; } = 10;

    /// <summary>
    /// fairseq's BASE fine-tuning recipes by amount of labeled data: "10m" and "1h" (13k updates, channel masks p 0.25,
    /// validation every 50 / 1000 updates after 10k), "10h" (20k updates, channel masks p 0.5, layer drop 0.05),
    /// "100h" (80k updates, lr 3e-5, no frozen phase, channel masks p 0.5); and "tiny", a CPU-sized recipe for the
    /// tiny model on minutes of audio (4000 updates of up to 20 s of audio, lr 5e-4, the head alone for the first
    /// 200 updates, spans scaled to a 256-wide model).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown preset name.</exception>
    public static CtcFineTuningOptions Preset(string name) => name switch
    {
        "10m" => new CtcFineTuningOptions(),
        "1h" => new CtcFineTuningOptions { ValidateInterval = 1000, SaveInterval = 1000 },
        "10h" => new CtcFineTuningOptions
        {
            MaxUpdates = 20_000, MaskFeatureProb = 0.5f, LayerDrop = 0.05f, ValidateInterval = 10_000, SaveInterval = 10_000,
        },
        "100h" => new CtcFineTuningOptions
        {
            MaxUpdates = 80_000, LearningRate = 3e-5f, FreezeFineTuneUpdates = 0, MaskFeatureProb = 0.5f, ValidateInterval = 1000,
            ValidateAfterUpdates = 0, SaveInterval = 1000,
        },
        "tiny" => new CtcFineTuningOptions
        {
            MaxUpdates = 4000, LearningRate = 5e-4f, FreezeFineTuneUpdates = 200, MaskTimeProb = 0.5f, MaskFeatureLength = 16,
            LayerDrop = 0.05f, ValidateInterval = 250, ValidateAfterUpdates = 0, SaveInterval = 250, LogInterval = 25,
            Batching = new BatchingOptions { PadToLongest = true, MaxTokens = 320_000, MaxSampleSize = int.MaxValue, MinSampleSize = 0 },
        },
        _ => throw new ArgumentException($"unknown fine-tuning preset '{name}' (10m, 1h, 10h, 100h, tiny)"),
    };

    /// <summary>The tri-stage schedule over <see cref="MaxUpdates"/>.</summary>
    public TriStageSchedule Schedule => TriStageSchedule.FromPhaseRatios(LearningRate, MaxUpdates, PhaseRatios.Warmup,
        PhaseRatios.Hold, PhaseRatios.Decay, InitialLearningRateScale, FinalLearningRateScale);
}
