using Wav2Vec2.Training;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Options of <see cref="Wav2Vec2MulticlassClassificationCatalog.Wav2Vec2AudioClassification(Microsoft.ML.MulticlassClassificationCatalog.MulticlassClassificationTrainers, Wav2Vec2AudioClassificationOptions)"/>:
/// ML.NET's multiclass columns (a key label in; Score and PredictedLabel out), the pre-trained model (a directory, or
/// the model of a pre-training Fit), the head (frozen backbone or not, weighted layer sum, projector width) and the
/// recipe (<see cref="SequenceClassificationOptions"/>, Hugging Face's audio-classification defaults, with the shared
/// overrides of <see cref="Wav2Vec2TrainingOptions"/>).
/// </summary>
/// <example><code>
/// var options = new Wav2Vec2AudioClassificationOptions
/// {
///     ModelDirectory = "wav2vec2-base", AudioColumnName = "Path", AudioFolder = "clips", MaxUpdates = 600,
///     LearningRate = 1e-4f, FreezeBackbone = true, UseWeightedLayerSum = true, ValidationData = dev,
/// };
/// </code></example>
public sealed class Wav2Vec2AudioClassificationOptions : Wav2Vec2TrainingOptions
{
    /// <summary>The key-typed label column (MapValueToKey makes one; its key values name the classes).</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>The class probabilities column of the returned transformer.</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>The predicted class column (a key of the label's classes) of the returned transformer.</summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>A complete recipe instead of the defaults (the overrides still apply).</summary>
    public SequenceClassificationOptions? Recipe { get; set; }

    /// <summary>Train the head alone, the backbone frozen throughout (Hugging Face's freeze_base_model); null: the recipe's
    /// (which trains the Transformer, the conv encoder frozen).</summary>
    public bool? FreezeBackbone { get; set; }

    /// <summary>Classify a learned softmax-weighted sum of every hidden state (use_weighted_layer_sum); null: the recipe's.</summary>
    public bool? UseWeightedLayerSum { get; set; }

    /// <summary>Width of the projector (classifier_proj_size); null: the recipe's (256).</summary>
    public int? ClassifierProjSize { get; set; }

    /// <summary>Probability of a frame starting a masked time span (null: the recipe's, 0.05).</summary>
    public float? MaskTimeProb { get; set; }

    /// <summary>The recipe with the overrides applied.</summary>
    internal SequenceClassificationOptions ResolveRecipe()
    {
        SequenceClassificationOptions recipe = (Overrides() with { MaskTimeProb = MaskTimeProb }).ApplyTo(Recipe ?? new SequenceClassificationOptions());
        return recipe with
        {
            FreezeBackboneUpdates = FreezeBackbone is bool frozen ? (frozen ? int.MaxValue : 0) : recipe.FreezeBackboneUpdates,
            UseWeightedLayerSum = UseWeightedLayerSum ?? recipe.UseWeightedLayerSum, ClassifierProjSize = ClassifierProjSize ?? recipe.ClassifierProjSize,
        };
    }

    internal void Validate()
    {
        ValidateCommon(modelRequired: true, (nameof(LabelColumnName), LabelColumnName), (nameof(ScoreColumnName), ScoreColumnName),
            (nameof(PredictedLabelColumnName), PredictedLabelColumnName));
        if (ClassifierProjSize < 1)
            throw new ArgumentOutOfRangeException(nameof(ClassifierProjSize), ClassifierProjSize, "ClassifierProjSize must be at least 1");
        if (MaskTimeProb is < 0 or > 1 || (MaskTimeProb is float p && float.IsNaN(p)))
            throw new ArgumentOutOfRangeException(nameof(MaskTimeProb), MaskTimeProb, "MaskTimeProb must be in [0, 1]");
    }
}
