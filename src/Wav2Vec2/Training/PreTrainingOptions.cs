using System.Globalization;
using Wav2Vec2.Data;
using Wav2Vec2.Models;

namespace Wav2Vec2.Training;

/// <summary>
/// The pre-training recipe, with fairseq's wav2vec2_base_librispeech defaults: Adam (0.9, 0.98), eps 1e-6 added as
/// fairseq's Adam adds it, weight decay 0.01, peak lr 5e-4 reached after 32000 warm-up updates then linear decay to 0
/// (update k trains at the rate set after update k - 1, so update 1 runs at 0), no clipping, batches of up to 1.4M
/// samples with fairseq's batch_by_size, raw (unnormalised) waveforms, Gumbel temperature max(2 x 0.999995^update,
/// 0.5); and the objective and regularisation, which <see cref="Configure"/> writes into the model's config so that a
/// config.json from the Hub (with fine-tuning values such as mask_time_prob 0.05) never sets them. fairseq trains BASE
/// on 64 GPUs (LARGE on 128) with update_freq 1: with one machine each update sees 64x less audio at the same learning
/// rate unless <see cref="UpdateFreq"/> makes up for it (<see cref="EffectiveBatchSeconds"/>).
/// </summary>
public sealed record PreTrainingOptions
{
    /// <summary>Updates to train (each one accumulates <see cref="UpdateFreq"/> batches).</summary>
    public int MaxUpdates { get; init; } = 400_000;
    /// <summary>Batches accumulated per update, to simulate larger batches (fairseq: one per GPU).</summary>
    public int UpdateFreq { get; init; } = 1;
    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; init; } = 5e-4f;
    /// <summary>Updates of linear warm-up (fairseq's warmup_updates; independent of <see cref="MaxUpdates"/>).</summary>
    public int WarmupUpdates { get; init; } = 32_000;
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
    /// <summary>Adam hyper-parameters (the learning rate here is overridden by the schedule).</summary>
    public AdamWOptions Optimizer { get; init; } = new() { EpsilonBeforeBiasCorrection = true };
    /// <summary>Normalise each utterance (fairseq's normalize: layer norm over its samples before cropping, eps 1e-5).</summary>
    public bool Normalize { get; init; }
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
    /// <summary>Probability of a frame starting a masked span (fairseq mask_prob).</summary>
    public float MaskTimeProb { get; init; } = 0.65f;
    /// <summary>Frames per masked span.</summary>
    public int MaskTimeLength { get; init; } = 10;
    /// <summary>Minimum masked spans per utterance.</summary>
    public int MaskTimeMinMasks { get; init; } = 2;
    /// <summary>Distractors per masked frame.</summary>
    public int NumNegatives { get; init; } = 100;
    /// <summary>Temperature kappa of the contrastive logits.</summary>
    public float ContrastiveLogitsTemperature { get; init; } = 0.1f;
    /// <summary>Weight of the codebook diversity loss.</summary>
    public float DiversityLossWeight { get; init; } = 0.1f;
    /// <summary>Dropout on residual branches and attention probabilities (fairseq dropout, attention_dropout).</summary>
    public float Dropout { get; init; } = 0.1f;
    /// <summary>Dropout after the feed-forward activation.</summary>
    public float ActivationDropout { get; init; }
    /// <summary>Dropout after the feature projection (fairseq dropout_input).</summary>
    public float FeatProjDropout { get; init; } = 0.1f;
    /// <summary>Dropout on the quantizer's input (fairseq dropout_features).</summary>
    public float FeatQuantizerDropout { get; init; } = 0.1f;
    /// <summary>Probability of skipping a Transformer layer.</summary>
    public float LayerDrop { get; init; } = 0.05f;
    /// <summary>Warn when code perplexity stays below this fraction of G x V ...</summary>
    public double CollapseFraction { get; init; } = 0.1;
    /// <summary>... for this many consecutive logged updates (codebook collapse).</summary>
    public int CollapseIntervals { get; init; } = 5;
    /// <summary>GPUs fairseq's recipe runs on (one batch each per update), for <see cref="EffectiveBatchSeconds"/>.</summary>
    public int FairseqWorldSize { get; init; } = 64;

    /// <summary>
    /// Presets: "base" (fairseq wav2vec2_base_librispeech), "large" (wav2vec2_large_librivox: lr 5e-3 over 1M updates
    /// with 32k warm-up, 1.2M samples per batch of at most 4 recordings, crops of 320000, normalised input, temperature
    /// down to 0.1, no dropout, no feature penalty, full gradient into the conv encoder, 128 GPUs) and "tiny"
    /// (<see cref="Tiny"/>).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown preset name.</exception>
    public static PreTrainingOptions Preset(string name) => name switch
    {
        "base" => new PreTrainingOptions(),
        "tiny" => Tiny(2000),
        "large" => new PreTrainingOptions
        {
            MaxUpdates = 1_000_000, LearningRate = 5e-3f, MinTemperature = 0.1, FeatureGradMult = 1f, FeaturePenaltyWeight = 0f,
            Normalize = true, Dropout = 0f, FeatProjDropout = 0f, FeatQuantizerDropout = 0f, LayerDrop = 0f, FairseqWorldSize = 128,
            Batching = new BatchingOptions { MaxTokens = 1_200_000, MaxSampleSize = 320_000, MaxSentences = 4 },
        },
        _ => throw new ArgumentException($"unknown preset '{name}' (base, large, tiny)"),
    };

    /// <summary>
    /// The CPU-sized recipe for the tiny model: batches of 256000 samples (16 s), normalised input, lr 1e-3, LARGE's
    /// regularisation (full gradient into the conv encoder, no feature penalty, no dropout or layer drop) and an easier
    /// objective than BASE's (masks started with p 0.2 over spans of 2 frames, 10 distractors): with BASE's settings,
    /// or masks of 0.3 x 3 with BASE's regularisation, contrastive accuracy stayed at chance for 1200 updates on 2 hours
    /// of synthetic speech, while this recipe leaves chance within a few hundred. The schedules scale to a run of
    /// <paramref name="maxUpdates"/>: warm-up over the first 8%, the Gumbel temperature decaying from 1 to its floor of
    /// 0.5 by 60% of the run (fairseq's 0.999995 per update reaches the floor after 277k of its 400k updates).
    /// </summary>
    public static PreTrainingOptions Tiny(int maxUpdates) => new()
    {
        MaxUpdates = maxUpdates, LearningRate = 1e-3f, WarmupUpdates = Math.Max(1, maxUpdates * 8 / 100), MaxTemperature = 1.0,
        TemperatureDecay = Math.Pow(0.5, 1.0 / Math.Max(1, 0.6 * maxUpdates)), Normalize = true, MaskTimeProb = 0.2f,
        MaskTimeLength = 2, NumNegatives = 10, FeatureGradMult = 1f, FeaturePenaltyWeight = 0f, Dropout = 0f, FeatProjDropout = 0f,
        FeatQuantizerDropout = 0f, LayerDrop = 0f, FairseqWorldSize = 1, Batching = new BatchingOptions { MaxTokens = 256_000 },
    };

    /// <summary>The schedule: linear warm-up over <see cref="WarmupUpdates"/>, then linear decay to 0 at <see cref="MaxUpdates"/>.</summary>
    public PolynomialDecaySchedule Schedule => new(LearningRate, WarmupUpdates, MaxUpdates);

    /// <summary>Learning rate of update <paramref name="update"/> (1-based): the rate set after update - 1, as fairseq steps its scheduler.</summary>
    public float LearningRateAt(int update) => Schedule.At(update - 1);

    /// <summary>Gumbel temperature after <paramref name="updates"/> completed updates.</summary>
    public float TemperatureAt(int updates) => (float)Math.Max(MaxTemperature * Math.Pow(TemperatureDecay, updates), MinTemperature);

    /// <summary>Seconds of 16 kHz audio in one update at most: max_tokens x update_freq.</summary>
    public double EffectiveBatchSeconds => (double)Batching.MaxTokens * UpdateFreq / 16000;

    /// <summary>
    /// A copy of <paramref name="architecture"/> with this recipe's objective and regularisation (masking, distractors,
    /// logit temperature, diversity weight, dropouts, layer drop): build the model to pre-train from it.
    /// </summary>
    public Wav2Vec2Config Configure(Wav2Vec2Config architecture)
    {
        Wav2Vec2Config config = architecture.Clone();
        (config.MaskTimeProb, config.MaskTimeLength, config.MaskTimeMinMasks) = (MaskTimeProb, MaskTimeLength, MaskTimeMinMasks);
        (config.NumNegatives, config.ContrastiveLogitsTemperature, config.DiversityLossWeight) = (NumNegatives, ContrastiveLogitsTemperature, DiversityLossWeight);
        (config.HiddenDropout, config.AttentionDropout, config.ActivationDropout) = (Dropout, Dropout, ActivationDropout);
        (config.FeatProjDropout, config.FeatQuantizerDropout, config.LayerDrop) = (FeatProjDropout, FeatQuantizerDropout, LayerDrop);
        (config.MaskFeatureProb, config.ApplySpecAugment) = (0f, true);
        return config;
    }

    /// <summary>The first setting in which <paramref name="config"/> differs from <see cref="Configure"/>'s, or null.</summary>
    internal string? Mismatch(Wav2Vec2Config config)
    {
        Wav2Vec2Config expected = Configure(config);
        foreach (var (name, ours, theirs) in new (string, float, float)[]
        {
            ("mask_time_prob", expected.MaskTimeProb, config.MaskTimeProb), ("mask_time_length", expected.MaskTimeLength, config.MaskTimeLength),
            ("mask_time_min_masks", expected.MaskTimeMinMasks, config.MaskTimeMinMasks), ("num_negatives", expected.NumNegatives, config.NumNegatives),
            ("contrastive_logits_temperature", expected.ContrastiveLogitsTemperature, config.ContrastiveLogitsTemperature),
            ("diversity_loss_weight", expected.DiversityLossWeight, config.DiversityLossWeight),
            ("hidden_dropout", expected.HiddenDropout, config.HiddenDropout), ("attention_dropout", expected.AttentionDropout, config.AttentionDropout),
            ("activation_dropout", expected.ActivationDropout, config.ActivationDropout), ("feat_proj_dropout", expected.FeatProjDropout, config.FeatProjDropout),
            ("feat_quantizer_dropout", expected.FeatQuantizerDropout, config.FeatQuantizerDropout), ("layerdrop", expected.LayerDrop, config.LayerDrop),
        })
            if (ours != theirs)
                return string.Create(CultureInfo.InvariantCulture, $"{name} is {theirs} in the model's config but {ours} in the pre-training options");
        return null;
    }

    /// <summary>One line per group of settings, for the start of a run.</summary>
    public IEnumerable<string> Describe()
    {
        yield return string.Create(CultureInfo.InvariantCulture, $"optimisation: {MaxUpdates} updates, lr {LearningRate:G3} after {WarmupUpdates} warm-up updates, " +
            $"Adam ({Optimizer.Beta1}, {Optimizer.Beta2}) eps {Optimizer.Epsilon:G3} wd {Optimizer.WeightDecay:G3}, clip {ClipNorm}, update_freq {UpdateFreq}");
        yield return string.Create(CultureInfo.InvariantCulture, $"effective batch: up to {EffectiveBatchSeconds:F0} s of audio per update " +
            $"(fairseq's recipe: {FairseqWorldSize} GPU(s) x {Batching.MaxTokens / 16000.0:F0} s = {FairseqWorldSize * Batching.MaxTokens / 16000.0:F0} s at this learning rate)");
        yield return string.Create(CultureInfo.InvariantCulture, $"objective: masks p {MaskTimeProb} x {MaskTimeLength} frames (min {MaskTimeMinMasks}), " +
            $"{NumNegatives} distractors, logit temperature {ContrastiveLogitsTemperature}, diversity {DiversityLossWeight}, feature penalty {FeaturePenaltyWeight}, " +
            $"Gumbel {MaxTemperature} -> {MinTemperature} x {TemperatureDecay:G8}/update, conv gradient x {FeatureGradMult}");
        yield return string.Create(CultureInfo.InvariantCulture, $"regularisation: dropout {Dropout}, activation {ActivationDropout}, input {FeatProjDropout}, " +
            $"features {FeatQuantizerDropout}, layer drop {LayerDrop}; input {(Normalize ? "normalised per utterance" : "raw waveform")}");
    }
}
