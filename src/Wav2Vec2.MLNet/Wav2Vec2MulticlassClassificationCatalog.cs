using Microsoft.ML;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>
/// The audio classification trainer on <c>mlContext.MulticlassClassification.Trainers</c>, where ML.NET keeps its
/// fine-tuning trainers for images and text: Wav2Vec2AudioClassification fine-tunes wav2vec 2.0 with a
/// classification head on a key-typed label and an audio column.
/// </summary>
/// <example><code>
/// var trainer = mlContext.MulticlassClassification.Trainers.Wav2Vec2AudioClassification("wav2vec2-base", audioColumnName: "Path", audioFolder: "clips");
/// </code></example>
public static class Wav2Vec2MulticlassClassificationCatalog
{
    /// <summary>Fine-tunes the pre-trained model of a directory into an audio classifier (Hugging Face's recipe).</summary>
    /// <param name="catalog">mlContext.MulticlassClassification.Trainers.</param>
    /// <param name="pretrainedModelDirectory">A Hugging Face directory (backbone, pre-training or task checkpoint).</param>
    /// <param name="labelColumnName">The key-typed label (MapValueToKey).</param>
    /// <param name="audioColumnName">Text (audio file paths) or a vector of Single (16 kHz samples).</param>
    /// <param name="scoreColumnName">The class probabilities column.</param>
    /// <param name="predictedLabelColumnName">The predicted class column (a key).</param>
    /// <param name="maxUpdates">Updates to train (null: the recipe's 1000).</param>
    /// <param name="audioFolder">The folder relative paths are resolved against.</param>
    /// <example><code>
    /// var trainer = mlContext.MulticlassClassification.Trainers.Wav2Vec2AudioClassification("wav2vec2-base", audioColumnName: "Path",
    ///     maxUpdates: 500, audioFolder: "clips");
    /// </code></example>
    public static Wav2Vec2AudioClassificationTrainer Wav2Vec2AudioClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string pretrainedModelDirectory, string labelColumnName = "Label", string audioColumnName = "Audio", string scoreColumnName = "Score",
        string predictedLabelColumnName = "PredictedLabel", int? maxUpdates = null, string? audioFolder = null) =>
        catalog.Wav2Vec2AudioClassification(new Wav2Vec2AudioClassificationOptions
        {
            ModelDirectory = pretrainedModelDirectory, LabelColumnName = labelColumnName, AudioColumnName = audioColumnName,
            ScoreColumnName = scoreColumnName, PredictedLabelColumnName = predictedLabelColumnName, MaxUpdates = maxUpdates, AudioFolder = audioFolder,
        });

    /// <summary>Audio classification with every option (frozen backbone, weighted layer sum, recipe, validation, run
    /// directory, resume, threads, cancellation), or from the model of a Wav2Vec2PreTrain Fit.</summary>
    /// <example><code>
    /// var trainer = mlContext.MulticlassClassification.Trainers.Wav2Vec2AudioClassification(new Wav2Vec2AudioClassificationOptions
    /// {
    ///     Model = preTrained.Model, AudioColumnName = "Audio", FreezeBackbone = true, UseWeightedLayerSum = true,
    /// });
    /// </code></example>
    public static Wav2Vec2AudioClassificationTrainer Wav2Vec2AudioClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        Wav2Vec2AudioClassificationOptions options) =>
        new(MLNetInterop.Environment(catalog), options ?? throw new ArgumentNullException(nameof(options)));
}
