using Wav2Vec2.Models;

namespace Wav2Vec2.Training;

/// <summary>
/// The model-side regularisation of a training recipe (the dropout, layer drop and SpecAugment settings of fairseq's
/// model: group and of config.json, and the gradient scale of the conv feature encoder). A trainer writes them into
/// the model's config (<see cref="ApplyTo"/>), so a checkpoint's config.json from the Hub never sets them. The
/// defaults are Hugging Face's Wav2Vec2Config defaults with the conv encoder frozen.
/// </summary>
/// <example><code>
/// var regularization = new RegularizationOptions { LayerDrop = 0.05f, MaskTimeProb = 0.5f, MaskFeatureProb = 0.25f, MaskFeatureLength = 16 };
/// </code></example>
public sealed record RegularizationOptions
{
    /// <summary>Dropout on residual branches (hidden_dropout; fairseq's dropout).</summary>
    public float HiddenDropout { get; init; } = 0.1f;

    /// <summary>Dropout on attention probabilities.</summary>
    public float AttentionDropout { get; init; } = 0.1f;

    /// <summary>Dropout after the feed-forward activation.</summary>
    public float ActivationDropout { get; init; } = 0.1f;

    /// <summary>Dropout after the feature projection (fairseq's dropout_input).</summary>
    public float FeatProjDropout { get; init; }

    /// <summary>Dropout before a CTC head.</summary>
    public float FinalDropout { get; init; } = 0.1f;

    /// <summary>Dropout on the quantizer's input in pre-training (fairseq's dropout_features).</summary>
    public float FeatQuantizerDropout { get; init; }

    /// <summary>Probability of skipping a Transformer layer.</summary>
    public float LayerDrop { get; init; } = 0.1f;

    /// <summary>Probability of a frame starting a masked time span (mask_time_prob; fairseq's mask_prob).</summary>
    public float MaskTimeProb { get; init; } = 0.05f;

    /// <summary>Frames per masked time span.</summary>
    public int MaskTimeLength { get; init; } = 10;

    /// <summary>Minimum masked time spans per utterance.</summary>
    public int MaskTimeMinMasks { get; init; } = 2;

    /// <summary>Probability of a channel starting a zeroed span (mask_feature_prob; fairseq's mask_channel_prob).</summary>
    public float MaskFeatureProb { get; init; }

    /// <summary>Channels per zeroed span.</summary>
    public int MaskFeatureLength { get; init; } = 10;

    /// <summary>Scale of the gradient flowing into the conv feature encoder; 0 freezes it (fairseq's feature_grad_mult,
    /// Hugging Face's freeze_feature_encoder).</summary>
    public float FeatureGradMult { get; init; }

    /// <summary>A copy of <paramref name="config"/> with these settings (and SpecAugment on).</summary>
    public Wav2Vec2Config ApplyTo(Wav2Vec2Config config)
    {
        Wav2Vec2Config c = config.Clone();
        (c.HiddenDropout, c.AttentionDropout, c.ActivationDropout) = (HiddenDropout, AttentionDropout, ActivationDropout);
        (c.FeatProjDropout, c.FinalDropout, c.FeatQuantizerDropout, c.LayerDrop) = (FeatProjDropout, FinalDropout, FeatQuantizerDropout, LayerDrop);
        (c.MaskTimeProb, c.MaskTimeLength, c.MaskTimeMinMasks) = (MaskTimeProb, MaskTimeLength, MaskTimeMinMasks);
        (c.MaskFeatureProb, c.MaskFeatureLength, c.ApplySpecAugment) = (MaskFeatureProb, MaskFeatureLength, true);
        return c;
    }

    /// <summary>The settings <paramref name="config"/> holds, named as config.json names them, for comparisons.</summary>
    internal static IEnumerable<(string Name, float Value)> Fields(Wav2Vec2Config config) =>
    [
        ("hidden_dropout", config.HiddenDropout), ("attention_dropout", config.AttentionDropout), ("activation_dropout", config.ActivationDropout),
        ("feat_proj_dropout", config.FeatProjDropout), ("final_dropout", config.FinalDropout), ("feat_quantizer_dropout", config.FeatQuantizerDropout),
        ("layerdrop", config.LayerDrop), ("mask_time_prob", config.MaskTimeProb), ("mask_time_length", config.MaskTimeLength),
        ("mask_time_min_masks", config.MaskTimeMinMasks), ("mask_feature_prob", config.MaskFeatureProb), ("mask_feature_length", config.MaskFeatureLength),
    ];
}
