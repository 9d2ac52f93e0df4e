using Wav2Vec2.Data;

namespace Wav2Vec2.Training;

/// <summary>
/// The CTC fine-tuning recipe: the common groups (<see cref="TrainingOptions"/>), the updates during which only the
/// CTC head trains, and the validation figure that picks best/. The defaults are fairseq's base_10m recipe
/// (examples/wav2vec/config/finetuning; <see cref="Presets"/> "10m"): Adam (0.9, 0.98), eps 1e-8, no weight decay, no
/// clipping, peak lr 5e-5 on a tri-stage schedule (10% warm-up from 0.01 x peak, 40% hold, 50% exponential decay to
/// 0.05 x peak), only the CTC head trained for the first 10000 updates, the conv encoder frozen, time masks (p 0.65,
/// spans of 10) with the learned mask embedding and channel masks (p 0.25, spans of 64) zeroing features, layer drop
/// 0.1, activation dropout 0.1, the other dropouts 0, losses summed and divided by the number of utterances
/// (sentence_avg), validation by greedy WER keeping the best model. fairseq trains these recipes on 2 GPUs with
/// update_freq 4 (8 batches of up to 3.2M samples per update): on one machine set update_freq to 8 for the same
/// effective batch.
/// </summary>
/// <example><code>
/// CtcFineTuningOptions options = new TrainingOverrides { MaxUpdates = 1500 }.ApplyTo(CtcFineTuningOptions.Presets["tiny"]) with { FreezeFineTuneUpdates = 100 };
/// </code></example>
public sealed record CtcFineTuningOptions : TrainingOptions
{
    /// <summary>fairseq's base_10m recipe (see the type's summary).</summary>
    public CtcFineTuningOptions()
    {
        Run = new RunOptions { ValidateInterval = 50, ValidateAfterUpdates = 10_000, SaveInterval = 50, KeepLastCheckpoints = 1, LogInterval = 10 };
        Optimization = new OptimizationOptions
        {
            MaxUpdates = 13_000, LearningRate = 5e-5f, Schedule = new TriStageSchedule(),
            Optimizer = new AdamWOptions { Epsilon = 1e-8f, WeightDecay = 0f },
        };
        Batching = new BatchingOptions { PadToLongest = true, MaxTokens = 3_200_000, MaxSampleSize = int.MaxValue, MinSampleSize = 0 };
        Regularization = new RegularizationOptions
        {
            HiddenDropout = 0f, AttentionDropout = 0f, ActivationDropout = 0.1f, FinalDropout = 0f, LayerDrop = 0.1f,
            MaskTimeProb = 0.65f, MaskFeatureProb = 0.25f, MaskFeatureLength = 64,
        };
    }

    /// <summary>Updates during which only the CTC head trains (fairseq's freeze_finetune_updates).</summary>
    public int FreezeFineTuneUpdates { get; init; } = 10_000;

    /// <summary>
    /// MMS's recipe for a new language: when set, only the Transformer layers' adapters and the CTC head train (the
    /// model needs adapter_attn_dim; the backbone is never updated, the frozen-head phase does not apply), starting
    /// from the adapters the model was loaded with, and every saved model also gets adapter.&lt;language&gt;.safetensors
    /// (Hugging Face's file), which <see cref="Models.Wav2Vec2ForCtc.LoadAdapter"/> reads.
    /// </summary>
    public string? AdapterLanguage { get; init; }

    /// <summary>The validation figure that picks best/ (default WER, as fairseq).</summary>
    public BestModelMetric BestModelMetric { get; init; } = BestModelMetric.WordErrorRate;

    /// <summary>
    /// The recipes by name: fairseq's BASE recipes by amount of labeled data, "10m" (the defaults) and "1h" (13k
    /// updates, channel masks p 0.25, validation every 50 / 1000 updates after 10k), "10h" (20k updates, channel masks
    /// p 0.5, layer drop 0.05), "100h" (80k updates, lr 3e-5, no frozen phase, channel masks p 0.5); and "tiny", a
    /// CPU-sized recipe for the tiny model on minutes of audio (4000 updates of up to 20 s of audio, lr 5e-4, the head
    /// alone for the first 200 updates, masks p 0.5, channel spans scaled to a 256-wide model).
    /// </summary>
    public static IReadOnlyDictionary<string, CtcFineTuningOptions> Presets { get; } = CreatePresets();

    private static Dictionary<string, CtcFineTuningOptions> CreatePresets()
    {
        var m10 = new CtcFineTuningOptions();
        return new Dictionary<string, CtcFineTuningOptions>
        {
            ["10m"] = m10,
            ["1h"] = m10 with { Run = m10.Run with { ValidateInterval = 1000, SaveInterval = 1000 } },
            ["10h"] = m10 with
            {
                Optimization = m10.Optimization with { MaxUpdates = 20_000 },
                Regularization = m10.Regularization with { MaskFeatureProb = 0.5f, LayerDrop = 0.05f },
                Run = m10.Run with { ValidateInterval = 10_000, SaveInterval = 10_000 },
            },
            ["100h"] = m10 with
            {
                Optimization = m10.Optimization with { MaxUpdates = 80_000, LearningRate = 3e-5f },
                Regularization = m10.Regularization with { MaskFeatureProb = 0.5f },
                Run = m10.Run with { ValidateInterval = 1000, ValidateAfterUpdates = 0, SaveInterval = 1000 },
                FreezeFineTuneUpdates = 0,
            },
            ["tiny"] = m10 with
            {
                Optimization = m10.Optimization with { MaxUpdates = 4000, LearningRate = 5e-4f },
                Regularization = m10.Regularization with { MaskTimeProb = 0.5f, MaskFeatureLength = 16, LayerDrop = 0.05f },
                Run = m10.Run with { ValidateInterval = 250, ValidateAfterUpdates = 0, SaveInterval = 250, LogInterval = 25 },
                Batching = m10.Batching with { MaxTokens = 320_000 },
                FreezeFineTuneUpdates = 200,
            },
        };
    }

    internal override void Validate()
    {
        base.Validate();
        if (FreezeFineTuneUpdates < 0)
            throw new ArgumentOutOfRangeException(nameof(FreezeFineTuneUpdates), FreezeFineTuneUpdates, "FreezeFineTuneUpdates must not be negative");
    }
}
