using Wav2Vec2.Data;

namespace Wav2Vec2.Training;

/// <summary>
/// The audio classification fine-tuning recipe: the common groups (<see cref="TrainingOptions"/>), the head of a new
/// model, and the updates during which only the head trains. The defaults are Hugging Face's audio-classification
/// recipe (examples/pytorch/audio-classification, Trainer defaults) with Wav2Vec2Config's regularisation: AdamW (0.9,
/// 0.999), eps 1e-8, no weight decay, gradient norm clipped at 1, peak lr 3e-5 reached after the first 10% of the
/// updates then linear decay to 0, the conv encoder frozen (freeze_feature_encoder), SpecAugment time masks (p 0.05,
/// spans of 10, at least 2), dropout 0.1 on residuals, attention and the feed-forward activation, layer drop 0.1, the
/// cross-entropy averaged over the utterances of an update, validation by accuracy keeping the best model. Batches
/// keep whole utterances padded to the longest, up to 30 s of audio each.
/// </summary>
/// <example><code>
/// var options = new TrainingOverrides { MaxUpdates = 500, LearningRate = 1e-4f }.ApplyTo(new SequenceClassificationOptions())
///     with { FreezeBackboneUpdates = int.MaxValue };
/// </code></example>
public sealed record SequenceClassificationOptions : TrainingOptions
{
    /// <summary>Hugging Face's audio-classification recipe (see the type's summary).</summary>
    public SequenceClassificationOptions()
    {
        Run = new RunOptions { ValidateInterval = 100, SaveInterval = 500, KeepLastCheckpoints = 1, LogInterval = 10 };
        Optimization = new OptimizationOptions
        {
            MaxUpdates = 1000, LearningRate = 3e-5f, Schedule = new PolynomialDecaySchedule { WarmupFraction = 0.1 }, ClipNorm = 1.0,
            Optimizer = new AdamWOptions { Beta2 = 0.999f, Epsilon = 1e-8f, WeightDecay = 0f },
        };
        Batching = new BatchingOptions { PadToLongest = true, MaxTokens = 480_000, MaxSampleSize = int.MaxValue, MinSampleSize = 0 };
    }

    /// <summary>Updates during which only the head trains (projector, classifier, layer weights); int.MaxValue keeps the
    /// backbone frozen throughout (Hugging Face's freeze_base_model).</summary>
    public int FreezeBackboneUpdates { get; init; }

    /// <summary>Width of the projector (classifier_proj_size) of a new head.</summary>
    public int ClassifierProjSize { get; init; } = 256;

    /// <summary>A new head classifies a learned softmax-weighted sum of every hidden state (use_weighted_layer_sum).</summary>
    public bool UseWeightedLayerSum { get; init; }

    internal override void Validate()
    {
        base.Validate();
        if (FreezeBackboneUpdates < 0 || ClassifierProjSize < 1)
            throw new ArgumentOutOfRangeException(nameof(FreezeBackboneUpdates), "FreezeBackboneUpdates must not be negative and ClassifierProjSize must be at least 1");
    }
}
