using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Wav2Vec2.Data;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;
using Wav2Vec2.Training;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Self-supervised wav2vec 2.0 pre-training as an ML.NET estimator (an unsupervised learned transform, as PCA is):
/// <see cref="Wav2Vec2TrainerBase{TTransformer}.Fit"/> reads the audio column (no labels), runs the core's <see cref="PreTrainer"/> (fairseq's objective
/// and recipe, checkpoints in the run directory) and returns the <see cref="Wav2Vec2FeaturesTransformer"/> of the
/// pre-trained backbone. Create it with
/// <see cref="Wav2Vec2TransformsCatalog.Wav2Vec2PreTrain(TransformsCatalog, Wav2Vec2PreTrainingOptions)"/>.
/// </summary>
/// <example><code>
/// var preTrain = mlContext.Transforms.Wav2Vec2PreTrain("Features", "Path", preset: "tiny", maxUpdates: 2000, audioFolder: "clips");
/// Wav2Vec2FeaturesTransformer features = preTrain.Fit(unlabeled);   // progress in mlContext.Log
/// </code></example>
public sealed class Wav2Vec2PreTrainingEstimator : Wav2Vec2TrainerBase<Wav2Vec2FeaturesTransformer>
{
    private const string Name = "Wav2Vec2PreTrain";
    private readonly Wav2Vec2PreTrainingOptions _options;
    private readonly Wav2Vec2Config _architecture;
    private readonly FeaturesSettings _features;

    internal Wav2Vec2PreTrainingEstimator(IHostEnvironment? environment, Wav2Vec2PreTrainingOptions options)
        : base(environment, Checked(options), Name)
    {
        _options = options;
        _architecture = options.Architecture();
        _features = new FeaturesSettings(options.OutputColumnName, [.. options.Layers], false, options.Pooling, null, options.Chunking,
            options.ThreadCount);
        FeaturesMapper.Columns(_architecture, _features, out _);   // a layer out of range fails here
    }

    private static Wav2Vec2PreTrainingOptions Checked(Wav2Vec2PreTrainingOptions options)
    {
        options.Validate();
        return options;
    }

    private protected override IEnumerable<OutputColumn> OutputColumns() => FeaturesMapper.Columns(_architecture, _features, out _);

    // Pre-trains (validating on the validation rows or a seeded fraction of the training rows) and returns the
    // features transformer of the pre-trained backbone.
    private protected override Wav2Vec2FeaturesTransformer Train(TrainingSession session, AudioDataset train, AudioDataset? valid, DataViewSchema schema)
    {
        PreTrainingOptions recipe = _options.ResolveRecipe(_architecture);
        if (_options.ValidationFraction > 0)
            (train, valid) = Split(train, _options.ValidationFraction, recipe.Run.Seed);
        string? start = session.StartingModel(_options.ModelDirectory, _options.Model);
        PreTrainer trainer = session.Prepare((run, resume, log) => PreTrainer.Prepare(_architecture, recipe, run, resume, start, log));
        session.Train(trainer, token => trainer.Train(train, valid, token));
        return new Wav2Vec2FeaturesTransformer(new FeaturesMapper(_options.InputSettings(Environment), trainer.Model.Backbone, _features));
    }

    // A seeded choice of rows for validation; the rest train.
    private static (AudioDataset Train, AudioDataset Valid) Split(AudioDataset data, double fraction, ulong seed)
    {
        int count = Math.Max(1, (int)Math.Round(data.Entries.Count * fraction));
        if (count >= data.Entries.Count)
            throw new InvalidOperationException($"{Name}: {data.Entries.Count} recording(s) are too few to set {fraction:P0} aside for validation");
        int[] chosen = Enumerable.Range(0, data.Entries.Count).ToArray();
        new Random(unchecked((int)seed)).Shuffle(chosen);
        var valid = new HashSet<int>(chosen.Take(count));
        return (AudioDataset.FromEntries(data.Entries.Where((_, i) => !valid.Contains(i)).ToList(), data.Skipped),
            AudioDataset.FromEntries(data.Entries.Where((_, i) => valid.Contains(i)).ToList()));
    }
}
