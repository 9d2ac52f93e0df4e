using System.Globalization;
using Wav2Vec2.Data;
using Wav2Vec2.Models;

namespace Wav2Vec2.Training;

/// <summary>
/// The pre-training recipe: the common groups (<see cref="TrainingOptions"/>) and the objective (span masks come from
/// <see cref="TrainingOptions.Regularization"/>, distractors, logit temperature, diversity and feature-penalty
/// weights, the Gumbel temperature schedule) and input normalisation. <see cref="Configure"/> writes the objective and
/// regularisation into the model's config so that a config.json from the Hub (with fine-tuning values such as
/// mask_time_prob 0.05) never sets them. The defaults are fairseq's wav2vec2_base_librispeech (<see cref="Presets"/>
/// "base"). fairseq trains BASE on 64 GPUs (LARGE on 128) with update_freq 1: with one machine each update sees 64x
/// less audio at the same learning rate unless update_freq makes up for it (<see cref="EffectiveBatchSeconds"/>).
/// </summary>
/// <example><code>
/// PreTrainingOptions recipe = new TrainingOverrides { MaxUpdates = 3000 }.ApplyTo(PreTrainingOptions.Presets["tiny"]);
/// </code></example>
public sealed record PreTrainingOptions : TrainingOptions
{
    /// <summary>fairseq's wav2vec2_base_librispeech: Adam (0.9, 0.98), eps 1e-6 added as fairseq's Adam adds it, weight
    /// decay 0.01, peak lr 5e-4 after 32000 warm-up updates then linear decay to 0, no clipping, batches of up to 1.4M
    /// samples, raw waveforms, Gumbel temperature max(2 x 0.999995^update, 0.5), masks p 0.65 x 10 frames, 100
    /// distractors, dropout 0.1, layer drop 0.05, a tenth of the gradient into the conv encoder, feature penalty 10.</summary>
    public PreTrainingOptions()
    {
        Optimization = new OptimizationOptions
        {
            MaxUpdates = 400_000, LearningRate = 5e-4f, Schedule = new PolynomialDecaySchedule { WarmupUpdates = 32_000 },
            Optimizer = new AdamWOptions { EpsilonBeforeBiasCorrection = true },
        };
        Regularization = new RegularizationOptions
        {
            ActivationDropout = 0f, FeatProjDropout = 0.1f, FeatQuantizerDropout = 0.1f, LayerDrop = 0.05f, MaskTimeProb = 0.65f,
            FeatureGradMult = 0.1f,
        };
    }

    /// <summary>Normalise each utterance (fairseq's normalize: layer norm over its samples before cropping, eps 1e-5).</summary>
    public bool Normalize { get; init; }

    /// <summary>Gumbel temperature at update 0.</summary>
    public double MaxTemperature { get; init; } = 2.0;

    /// <summary>Lowest Gumbel temperature.</summary>
    public double MinTemperature { get; init; } = 0.5;

    /// <summary>Per-update temperature decay (fairseq's 0.999995), unless <see cref="TemperatureFloorFraction"/> is set.</summary>
    public double TemperatureDecay { get; init; } = 0.999995;

    /// <summary>When positive, the decay is chosen so that the temperature reaches its floor after this fraction of the
    /// run (it then stretches with the run's length).</summary>
    public double TemperatureFloorFraction { get; init; }

    /// <summary>Weight of the conv feature penalty (fairseq's second loss weight).</summary>
    public float FeaturePenaltyWeight { get; init; } = 10f;

    /// <summary>Distractors per masked frame.</summary>
    public int NumNegatives { get; init; } = 100;

    /// <summary>Temperature kappa of the contrastive logits.</summary>
    public float ContrastiveLogitsTemperature { get; init; } = 0.1f;

    /// <summary>Weight of the codebook diversity loss (at the start of the run when it rises, see <see cref="FinalDiversityLossWeight"/>).</summary>
    public float DiversityLossWeight { get; init; } = 0.1f;

    /// <summary>
    /// When set, the diversity weight rises linearly from <see cref="DiversityLossWeight"/> to this value between
    /// <see cref="DiversityRiseStart"/> and <see cref="DiversityRiseEnd"/> (fractions of the run), then stays there: at
    /// small scale a high weight from the start keeps the contrastive accuracy at chance, a low one lets the codebook
    /// collapse once the accuracy has left chance (docs/lowresource-experiment.md).
    /// </summary>
    public float? FinalDiversityLossWeight { get; init; }

    /// <summary>Fraction of the run at which the diversity weight starts to rise (with <see cref="FinalDiversityLossWeight"/>).</summary>
    public double DiversityRiseStart { get; init; } = 0.1;

    /// <summary>Fraction of the run at which the diversity weight reaches <see cref="FinalDiversityLossWeight"/>.</summary>
    public double DiversityRiseEnd { get; init; } = 0.2;

    /// <summary>Warn when code perplexity stays below this fraction of G x V ...</summary>
    public double CollapseFraction { get; init; } = 0.1;

    /// <summary>... for this many consecutive logged updates (codebook collapse).</summary>
    public int CollapseIntervals { get; init; } = 5;

    /// <summary>GPUs fairseq's recipe runs on (one batch each per update), for <see cref="EffectiveBatchSeconds"/>.</summary>
    public int FairseqWorldSize { get; init; } = 64;

    /// <summary>
    /// The recipes by name: "base" (fairseq's wav2vec2_base_librispeech, the defaults), "large"
    /// (wav2vec2_large_librivox: lr 5e-3 over 1M updates with 32k warm-up, 1.2M samples per batch of at most 4
    /// recordings, crops of 320000, normalised input, temperature down to 0.1, no dropout, no feature penalty, full
    /// gradient into the conv encoder, 128 GPUs) and "tiny": the CPU-sized recipe for the tiny model (batches of 16 s,
    /// normalised input, lr 1e-3 after 8% of the run, LARGE's regularisation, and an easier objective than BASE's: masks
    /// started with p 0.2 over spans of 2 frames, 10 distractors, a Gumbel temperature falling from 1 to 0.5 by 60% of the
    /// run). With BASE's objective, or masks of 0.3 x 3 with BASE's regularisation, contrastive accuracy stayed at chance
    /// for 1200 updates on 2 hours of synthetic speech, while "tiny" leaves chance within a few hundred.
    /// </summary>
    public static IReadOnlyDictionary<string, PreTrainingOptions> Presets { get; } = new Dictionary<string, PreTrainingOptions>
    {
        ["base"] = new(),
        ["large"] = new PreTrainingOptions
        {
            Optimization = new PreTrainingOptions().Optimization with { MaxUpdates = 1_000_000, LearningRate = 5e-3f },
            Regularization = Unregularized(maskTimeProb: 0.65f, maskTimeLength: 10),
            Batching = new BatchingOptions { MaxTokens = 1_200_000, MaxSampleSize = 320_000, MaxSentences = 4 },
            MinTemperature = 0.1, FeaturePenaltyWeight = 0f, Normalize = true, FairseqWorldSize = 128,
        },
        ["tiny"] = new PreTrainingOptions
        {
            Optimization = new PreTrainingOptions().Optimization with
            {
                MaxUpdates = 2000, LearningRate = 1e-3f, Schedule = new PolynomialDecaySchedule { WarmupFraction = 0.08 },
            },
            Regularization = Unregularized(maskTimeProb: 0.2f, maskTimeLength: 2),
            Batching = new BatchingOptions { MaxTokens = 256_000 },
            MaxTemperature = 1.0, TemperatureFloorFraction = 0.6, Normalize = true, NumNegatives = 10, FeaturePenaltyWeight = 0f,
            FairseqWorldSize = 1,
        },
    };

    // LARGE's regularisation: no dropout or layer drop, the full gradient into the conv encoder.
    private static RegularizationOptions Unregularized(float maskTimeProb, int maskTimeLength) => new()
    {
        HiddenDropout = 0f, AttentionDropout = 0f, ActivationDropout = 0f, FeatProjDropout = 0f, FeatQuantizerDropout = 0f, LayerDrop = 0f,
        MaskTimeProb = maskTimeProb, MaskTimeLength = maskTimeLength, FeatureGradMult = 1f,
    };

    /// <summary>The recipe fairseq pairs with an architecture: "large" for a layer-norm one (LARGE-LV60, XLS-R), else "base".</summary>
    public static string PresetFor(Wav2Vec2Config architecture) =>
        architecture.DoStableLayerNorm || architecture.FeatExtractNorm == FeatureEncoderNorm.Layer ? "large" : "base";

    /// <summary>
    /// The recipe as one JSON object with fairseq's names, what tools/pretrain_twin.py (the PyTorch twin, also under
    /// torchrun) reads to train the same way: optimisation (Adam, the polynomial-decay schedule, clipping, update_freq),
    /// batching, the objective, the Gumbel temperature schedule and the regularisation.
    /// </summary>
    /// <exception cref="NotSupportedException">A learning-rate schedule other than polynomial decay.</exception>
    public string ToRecipeJson()
    {
        var schedule = Optimization.Schedule as PolynomialDecaySchedule
            ?? throw new NotSupportedException($"the recipe's {Optimization.Schedule.GetType().Name} has no JSON form (polynomial decay has)");
        AdamWOptions adam = Optimization.Optimizer;
        RegularizationOptions r = Regularization;
        var recipe = new System.Text.Json.Nodes.JsonObject
        {
            ["max_update"] = Optimization.MaxUpdates, ["update_freq"] = Optimization.UpdateFreq, ["lr"] = Optimization.LearningRate,
            ["warmup_updates"] = schedule.WarmupFor(Optimization.MaxUpdates),
            ["end_learning_rate"] = schedule.EndLearningRate, ["power"] = schedule.Power, ["clip_norm"] = Optimization.ClipNorm,
            ["adam_betas"] = new System.Text.Json.Nodes.JsonArray(adam.Beta1, adam.Beta2), ["adam_eps"] = adam.Epsilon,
            ["weight_decay"] = adam.WeightDecay, ["adam_eps_before_bias_correction"] = adam.EpsilonBeforeBiasCorrection,
            ["max_tokens"] = Batching.MaxTokens, ["max_sentences"] = Batching.MaxSentences, ["min_sample_size"] = Batching.MinSampleSize,
            ["max_sample_size"] = Batching.MaxSampleSize, ["normalize"] = Normalize,
            ["max_temp"] = MaxTemperature, ["min_temp"] = MinTemperature,
            ["temp_decay"] = DecayPerUpdate,
            ["num_negatives"] = NumNegatives, ["logit_temp"] = ContrastiveLogitsTemperature,
            ["diversity_loss_weight"] = DiversityLossWeight, ["final_diversity_loss_weight"] = FinalDiversityLossWeight,
            ["diversity_rise"] = new System.Text.Json.Nodes.JsonArray(DiversityRiseStart, DiversityRiseEnd),
            ["feature_penalty_weight"] = FeaturePenaltyWeight,
            ["dropout"] = r.HiddenDropout, ["attention_dropout"] = r.AttentionDropout, ["activation_dropout"] = r.ActivationDropout,
            ["dropout_input"] = r.FeatProjDropout, ["dropout_features"] = r.FeatQuantizerDropout, ["encoder_layerdrop"] = r.LayerDrop,
            ["mask_prob"] = r.MaskTimeProb, ["mask_length"] = r.MaskTimeLength, ["mask_min_masks"] = r.MaskTimeMinMasks,
            ["feature_grad_mult"] = r.FeatureGradMult, ["seed"] = Run.Seed, ["log_interval"] = Run.LogInterval,
            ["save_interval"] = Run.SaveInterval,
        };
        return recipe.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Diversity-loss weight after <paramref name="updates"/> completed updates (see <see cref="FinalDiversityLossWeight"/>).</summary>
    public float DiversityWeightAt(int updates)
    {
        if (FinalDiversityLossWeight is not float final)
            return DiversityLossWeight;
        double start = DiversityRiseStart * Optimization.MaxUpdates, end = DiversityRiseEnd * Optimization.MaxUpdates;
        double progress = updates >= end ? 1 : updates <= start ? 0 : (updates - start) / (end - start);
        return (float)(DiversityLossWeight + (final - DiversityLossWeight) * progress);
    }

    /// <summary>Gumbel temperature after <paramref name="updates"/> completed updates.</summary>
    public float TemperatureAt(int updates) => (float)Math.Max(MaxTemperature * Math.Pow(DecayPerUpdate, updates), MinTemperature);

    // The decay in force: TemperatureDecay, or the one that reaches the floor at TemperatureFloorFraction of the run.
    private double DecayPerUpdate => TemperatureFloorFraction > 0
        ? Math.Pow(MinTemperature / MaxTemperature, 1.0 / Math.Max(1, TemperatureFloorFraction * Optimization.MaxUpdates))
        : TemperatureDecay;

    /// <summary>Seconds of 16 kHz audio in one update at most: max_tokens x update_freq.</summary>
    public double EffectiveBatchSeconds => (double)Batching.MaxTokens * Optimization.UpdateFreq / 16000;

    /// <summary>
    /// A copy of <paramref name="architecture"/> with this recipe's objective and regularisation (masking, distractors,
    /// logit temperature, diversity weight, dropouts, layer drop): build the model to pre-train from it.
    /// </summary>
    public Wav2Vec2Config Configure(Wav2Vec2Config architecture)
    {
        Wav2Vec2Config config = Regularization.ApplyTo(architecture);
        (config.NumNegatives, config.ContrastiveLogitsTemperature, config.DiversityLossWeight) = (NumNegatives, ContrastiveLogitsTemperature, DiversityLossWeight);
        return config;
    }

    /// <summary>The first setting in which <paramref name="config"/> differs from <see cref="Configure"/>'s, or null.</summary>
    internal string? Mismatch(Wav2Vec2Config config)
    {
        Wav2Vec2Config expected = Configure(config);
        (string Name, float Value)[] Settings(Wav2Vec2Config c) => [.. RegularizationOptions.Fields(c), ("num_negatives", c.NumNegatives),
            ("contrastive_logits_temperature", c.ContrastiveLogitsTemperature), ("diversity_loss_weight", c.DiversityLossWeight)];
        foreach (var (ours, theirs) in Settings(expected).Zip(Settings(config)))
            if (ours.Value != theirs.Value)
                return string.Create(CultureInfo.InvariantCulture, $"{ours.Name} is {theirs.Value} in the model's config but {ours.Value} in the pre-training options");
        return null;
    }

    internal override void Validate()
    {
        base.Validate();
        if (FinalDiversityLossWeight is < 0 || !(DiversityRiseStart >= 0 && DiversityRiseEnd >= DiversityRiseStart && DiversityRiseEnd <= 1))
            throw new ArgumentException($"the diversity weight must rise to a weight >= 0 over fractions 0 <= start <= end <= 1 of the run, " +
                $"got {FinalDiversityLossWeight} over {DiversityRiseStart}-{DiversityRiseEnd}");
        if (!(MinTemperature > 0 && MaxTemperature >= MinTemperature) || TemperatureDecay is <= 0 or > 1 || TemperatureFloorFraction is < 0 or > 1)
            throw new ArgumentException($"Gumbel temperatures must satisfy 0 < min <= max with a decay in (0, 1] and a floor fraction in [0, 1], " +
                $"got {MinTemperature}, {MaxTemperature}, {TemperatureDecay}, {TemperatureFloorFraction}");
    }

    /// <summary>One line per group of settings, for the start of a run.</summary>
    public IEnumerable<string> Describe()
    {
        OptimizationOptions o = Optimization;
        RegularizationOptions r = Regularization;
        string warmup = o.Schedule is PolynomialDecaySchedule { WarmupFraction: > 0 } p ? $"{p.WarmupFraction:P0} of the run as"
            : o.Schedule is PolynomialDecaySchedule q ? $"{q.WarmupUpdates}" : o.Schedule.ToString();
        string rise = FinalDiversityLossWeight is float final
            ? string.Create(CultureInfo.InvariantCulture, $" rising to {final} over {DiversityRiseStart:P0}-{DiversityRiseEnd:P0} of the run") : "";
        string decay = TemperatureFloorFraction > 0 ? $"floor at {TemperatureFloorFraction:P0} of the run" : $"x {TemperatureDecay:G8}/update";
        yield return string.Create(CultureInfo.InvariantCulture, $"optimisation: {o.MaxUpdates} updates, lr {o.LearningRate:G3} after {warmup} warm-up updates, " +
            $"Adam ({o.Optimizer.Beta1}, {o.Optimizer.Beta2}) eps {o.Optimizer.Epsilon:G3} wd {o.Optimizer.WeightDecay:G3}, clip {o.ClipNorm}, update_freq {o.UpdateFreq}");
        yield return string.Create(CultureInfo.InvariantCulture, $"effective batch: up to {EffectiveBatchSeconds:F0} s of audio per update " +
            $"(fairseq's recipe: {FairseqWorldSize} GPU(s) x {Batching.MaxTokens / 16000.0:F0} s = {FairseqWorldSize * Batching.MaxTokens / 16000.0:F0} s at this learning rate)");
        yield return string.Create(CultureInfo.InvariantCulture, $"objective: masks p {r.MaskTimeProb} x {r.MaskTimeLength} frames (min {r.MaskTimeMinMasks}), " +
            $"{NumNegatives} distractors, logit temperature {ContrastiveLogitsTemperature}, diversity {DiversityLossWeight}{rise}, feature penalty {FeaturePenaltyWeight}, " +
            $"Gumbel {MaxTemperature} -> {MinTemperature} {decay}, conv gradient x {r.FeatureGradMult}");
        yield return string.Create(CultureInfo.InvariantCulture, $"regularisation: dropout {r.HiddenDropout} (attention {r.AttentionDropout}), activation {r.ActivationDropout}, " +
            $"input {r.FeatProjDropout}, features {r.FeatQuantizerDropout}, layer drop {r.LayerDrop}; input {(Normalize ? "normalised per utterance" : "raw waveform")}");
    }
}
