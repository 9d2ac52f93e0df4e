using Wav2Vec2.Data;

namespace Wav2Vec2.Training;

/// <summary>
/// Audio classification fine-tuning settings. The defaults are Hugging Face's audio-classification recipe
/// (examples/pytorch/audio-classification, Trainer defaults) with Wav2Vec2Config's regularisation: AdamW (0.9, 0.999),
/// eps 1e-8, no weight decay, gradient norm clipped at 1, peak lr 3e-5 reached after the first 10% of the updates then
/// linear decay to 0, the conv encoder frozen (freeze_feature_encoder), SpecAugment time masks (p 0.05, spans of 10, at
/// least 2), dropout 0.1 on residuals, attention and the feed-forward activation, layer drop 0.1, the cross-entropy
/// averaged over the utterances of an update, validation by accuracy keeping the best model. Batches keep whole
/// utterances padded to the longest, up to 30 s of audio each.
/// </summary>
/// <example><code>
/// var options = new SequenceClassificationOptions { MaxUpdates = 500, LearningRate = 1e-4f, FreezeBackboneUpdates = int.MaxValue };
/// </code></example>
public sealed record SequenceClassificationOptions
{
    /// <summary>Updates to train.</summary>
    public int MaxUpdates { get; init; } = 1000;
    /// <summary>Batches accumulated per update.</summary>
    public int UpdateFreq { get; init; } = 1;
    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; init; } = 3e-5f;
    /// <summary>Fraction of <see cref="MaxUpdates"/> spent warming the learning rate up from 0 (Hugging Face warmup_ratio).</summary>
    public double WarmupRatio { get; init; } = 0.1;
    /// <summary>Updates during which only the head trains (projector, classifier, layer weights); int.MaxValue keeps the
    /// backbone frozen throughout (Hugging Face's freeze_base_model).</summary>
    public int FreezeBackboneUpdates { get; init; }
    /// <summary>Scale of the gradient into the conv feature encoder; 0 freezes it (Hugging Face freeze_feature_encoder).</summary>
    public float FeatureGradMult { get; init; }
    /// <summary>Width of the projector (classifier_proj_size) of a new head.</summary>
    public int ClassifierProjSize { get; init; } = 256;
    /// <summary>A new head classifies a learned softmax-weighted sum of every hidden state (use_weighted_layer_sum).</summary>
    public bool UseWeightedLayerSum { get; init; }
    /// <summary>Probability of a frame starting a masked time span (mask_time_prob).</summary>
    public float MaskTimeProb { get; init; } = 0.05f;
    /// <summary>Frames per masked time span.</summary>
    public int MaskTimeLength { get; init; } = 10;
    /// <summary>Minimum masked time spans per utterance.</summary>
    public int MaskTimeMinMasks { get; init; } = 2;
    /// <summary>Probability of a channel starting a zeroed span (mask_feature_prob).</summary>
    public float MaskFeatureProb { get; init; }
    /// <summary>Channels per zeroed span.</summary>
    public int MaskFeatureLength { get; init; } = 10;
    /// <summary>Probability of skipping a Transformer layer in training.</summary>
    public float LayerDrop { get; init; } = 0.1f;
    /// <summary>Dropout on residual branches.</summary>
    public float HiddenDropout { get; init; } = 0.1f;
    /// <summary>Dropout on attention probabilities.</summary>
    public float AttentionDropout { get; init; } = 0.1f;
    /// <summary>Dropout after the feed-forward activation.</summary>
    public float ActivationDropout { get; init; } = 0.1f;
    /// <summary>Dropout after the feature projection.</summary>
    public float FeatProjDropout { get; init; }
    /// <summary>Gradient-norm clipping threshold (0: off).</summary>
    public double ClipNorm { get; init; } = 1.0;
    /// <summary>Adam hyper-parameters (the learning rate comes from the schedule).</summary>
    public AdamWOptions Optimizer { get; init; } = new() { Beta2 = 0.999f, Epsilon = 1e-8f, WeightDecay = 0f };
    /// <summary>Batches of whole utterances padded to their longest, up to 480000 samples each.</summary>
    public BatchingOptions Batching { get; init; } = new() { PadToLongest = true, MaxTokens = 480_000, MaxSampleSize = int.MaxValue, MinSampleSize = 0 };
    /// <summary>Seed of data order, masks, dropout and the new head.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Validate (and keep the best model by accuracy) every this many updates, when a validation set is given.</summary>
    public int ValidateInterval { get; init; } = 100;
    /// <summary>Save a checkpoint every this many updates (0: only at the end).</summary>
    public int SaveInterval { get; init; } = 500;
    /// <summary>Checkpoints kept (the newest); best/ and final/ are kept apart.</summary>
    public int KeepLastCheckpoints { get; init; } = 1;
    /// <summary>Write a log line every this many updates.</summary>
    public int LogInterval { get; init; } = 10;

    /// <summary>Linear warm-up over <see cref="WarmupRatio"/> of the run, then linear decay to 0 (Hugging Face's linear schedule).</summary>
    public PolynomialDecaySchedule Schedule => new(LearningRate, (int)(MaxUpdates * WarmupRatio), MaxUpdates);
}
