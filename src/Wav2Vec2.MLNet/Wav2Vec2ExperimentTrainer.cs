using Microsoft.ML;

namespace Wav2Vec2.MLNet;

/// <summary>
/// A trainer for <see cref="Wav2Vec2Experiment"/>: a name for the leaderboard and a factory of a multiclass trainer
/// that reads the "Features" column and the key-typed "Label" column (ML.NET's defaults).
/// </summary>
/// <param name="Name">The name in the leaderboard.</param>
/// <param name="Create">Makes the trainer (a fresh one per fold and for the final refit).</param>
/// <example><code>
/// var lightGbm = new Wav2Vec2ExperimentTrainer("LightGbm", ml => ml.MulticlassClassification.Trainers.LightGbm());
/// </code></example>
public sealed record Wav2Vec2ExperimentTrainer(string Name, Func<MLContext, IEstimator<ITransformer>> Create)
{
    /// <summary>SDCA maximum entropy (ML.NET's linear multiclass trainer).</summary>
    public static Wav2Vec2ExperimentTrainer SdcaMaximumEntropy { get; } =
        new("SdcaMaximumEntropy", ml => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy());

    /// <summary>L-BFGS maximum entropy (multinomial logistic regression).</summary>
    public static Wav2Vec2ExperimentTrainer LbfgsMaximumEntropy { get; } =
        new("LbfgsMaximumEntropy", ml => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy());
}
