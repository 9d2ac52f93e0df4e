using Microsoft.ML;
using Microsoft.ML.Runtime;
using Wav2Vec2.Data;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;
using Wav2Vec2.Training;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Audio classification by fine-tuning wav2vec 2.0 (Hugging Face Wav2Vec2ForSequenceClassification: projector, mean
/// over each clip's frames, classifier), as an ML.NET multiclass trainer: <see cref="Wav2Vec2TrainerBase{TTransformer}.Fit"/> reads the audio column and
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
public sealed class Wav2Vec2AudioClassificationTrainer : Wav2Vec2TrainerBase<Wav2Vec2AudioClassificationTransformer>
{
    private readonly Wav2Vec2AudioClassificationOptions _options;
    private readonly ClassificationSettings _settings;

    internal Wav2Vec2AudioClassificationTrainer(IHostEnvironment? environment, Wav2Vec2AudioClassificationOptions options)
        : base(environment, Checked(options), "Wav2Vec2AudioClassification", label: options.LabelColumnName)
    {
        _options = options;
        _settings = new ClassificationSettings(options.ScoreColumnName, options.PredictedLabelColumnName, options.Chunking, options.ThreadCount);
    }

    private static Wav2Vec2AudioClassificationOptions Checked(Wav2Vec2AudioClassificationOptions options)
    {
        options.Validate();
        return options;
    }

    // A shape knows no key counts: two stand-in classes give the columns' kinds, types and annotations.
    private protected override IEnumerable<OutputColumn> OutputColumns() => ClassificationMapper.Columns(_settings, ["0", "1"]);

    private protected override IReadOnlyList<string> Classes(DataViewSchema schema) => TrainingData.ClassNames(schema[_options.LabelColumnName]);

    // Fine-tunes a classification head over the label's classes (validating by accuracy) and returns the classifier
    // of the final model. Rows with a missing key are skipped, as ML.NET trainers skip them.
    private protected override Wav2Vec2AudioClassificationTransformer Train(TrainingSession session, AudioDataset train, AudioDataset? valid,
        DataViewSchema schema)
    {
        IReadOnlyList<string> classes = Classes(schema);
        SequenceClassificationOptions recipe = _options.ResolveRecipe();
        string pretrained = session.StartingModel(_options.ModelDirectory, _options.Model)!;
        SequenceClassificationTrainer trainer = session.Prepare((run, resume, log) => SequenceClassificationTrainer.Prepare(pretrained, classes,
            recipe, run, resume, log));
        session.Train(trainer, token => trainer.Train(train, valid, token));
        return new Wav2Vec2AudioClassificationTransformer(new ClassificationMapper(_options.InputSettings(Environment), trainer.Model, _settings));
    }
}
