using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Wav2Vec2.Data;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;
using Wav2Vec2.Training;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Audio classification by fine-tuning wav2vec 2.0 (Hugging Face Wav2Vec2ForSequenceClassification: projector, mean
/// over each clip's frames, classifier), as an ML.NET multiclass trainer: <see cref="Fit"/> reads the audio column and
/// the key-typed label, runs the core's <see cref="SequenceClassificationTrainer"/> and returns a
/// <see cref="Wav2Vec2AudioClassificationTransformer"/> adding Score and PredictedLabel. Create it with
/// <c>mlContext.MulticlassClassification.Trainers.Wav2Vec2AudioClassification(...)</c>.
/// </summary>
/// <example><code>
/// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
///     .Append(mlContext.MulticlassClassification.Trainers.Wav2Vec2AudioClassification("wav2vec2-base", audioColumnName: "Path", audioFolder: "clips"))
///     .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
/// var model = pipeline.Fit(train);
/// var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
/// </code></example>
public sealed class Wav2Vec2AudioClassificationTrainer : IEstimator<Wav2Vec2AudioClassificationTransformer>
{
    private const string Name = "Wav2Vec2AudioClassification";
    private readonly IHostEnvironment? _environment;
    private readonly Wav2Vec2AudioClassificationOptions _options;
    private readonly TrainingColumns _columns;
    private readonly ClassificationSettings _settings;

    internal Wav2Vec2AudioClassificationTrainer(IHostEnvironment? environment, Wav2Vec2AudioClassificationOptions options)
    {
        options.Validate();
        _environment = environment;
        _options = options;
        _columns = new TrainingColumns(Name, options.AudioColumnName, options.AudioFolder == null ? null : Path.GetFullPath(options.AudioFolder),
            Label: options.LabelColumnName);
        _settings = new ClassificationSettings(options.ScoreColumnName, options.PredictedLabelColumnName, options.Chunking, options.ThreadCount);
    }

    /// <summary>The input shape plus Score (a vector of Single) and PredictedLabel (a key with the label's key values),
    /// after checking the audio and label columns.</summary>
    /// <example><code>
    /// SchemaShape shape = mapValueToKey.Append(trainer).GetOutputSchema(inputShape);
    /// </code></example>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShape.Column label = _columns.Check(inputSchema)!.Value;
        int classes = (int)((KeyDataViewType)label.ItemType).Count;
        return SchemaErrors.WithColumns(inputSchema, ClassificationMapper.Columns(_settings, Enumerable.Range(0, classes).Select(i => $"{i}").ToArray()));
    }

    /// <summary>
    /// Fine-tunes on every row whose label is set (rows with a missing key are skipped, as ML.NET trainers skip them),
    /// validating on <see cref="Wav2Vec2TrainingOptions.ValidationData"/> by accuracy, and returns the classifier of the
    /// final model (the best by validation accuracy is in the run directory's best/).
    /// </summary>
    /// <example><code>
    /// Wav2Vec2AudioClassificationTransformer classifier = trainer.Fit(keyed);
    /// </code></example>
    /// <exception cref="OperationCanceledException">The options' token stopped training; the message names the checkpoint.</exception>
    public Wav2Vec2AudioClassificationTransformer Fit(IDataView input)
    {
        _columns.Check(input.Schema);
        if (_options.ValidationData != null)
            _columns.Check(_options.ValidationData.Schema);
        string[] classes = TrainingData.ClassNames(input.Schema[_options.LabelColumnName]);
        SequenceClassificationOptions recipe = _options.ResolveRecipe();
        using var session = new TrainingSession(_environment, Name, _options);
        AudioDataset train = TrainingData.Read(input, _columns, classes, _options.CancellationToken);
        AudioDataset? valid = _options.ValidationData == null ? null
            : TrainingData.Read(_options.ValidationData, _columns, TrainingData.ClassNames(_options.ValidationData.Schema[_options.LabelColumnName]),
                _options.CancellationToken);
        string pretrained = session.Pretrained(_options.PretrainedModelDirectory, _options.PretrainedModel);
        Wav2Vec2ForSequenceClassification model = SequenceClassificationTrainer.CreateModel(pretrained, classes, recipe, out Wav2Vec2.IO.LoadReport report);
        session.Info($"initialised from {_options.Source}: {report.Ignored.Count} head tensor(s) ignored, {report.Missing.Count} new " +
            $"(head over {classes.Length} classes: {string.Join(", ", classes)})");
        var trainer = new SequenceClassificationTrainer(model, recipe, session.OutputDirectory);
        session.Train(trainer, trainer.TryResume, token => trainer.Train(train, valid, token));
        return new Wav2Vec2AudioClassificationTransformer(new ClassificationMapper(_options.InputSettings(_environment), model, _settings));
    }
}
