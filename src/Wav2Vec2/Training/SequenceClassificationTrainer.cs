using System.Globalization;
using System.Text.Json.Nodes;
using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.Data;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Training;

/// <summary>The figures of one classification batch.</summary>
/// <param name="Loss">Summed cross-entropy (nats) of the batch's utterances.</param>
/// <param name="Utterances">Utterances in the batch.</param>
/// <param name="Correct">Utterances whose highest logit is their class.</param>
internal sealed record ClassificationBatchMetrics(double Loss, int Utterances, int Correct);

/// <summary>
/// Fine-tuning of a pre-trained wav2vec 2.0 model into an utterance classifier (<see cref="Wav2Vec2ForSequenceClassification"/>,
/// see <see cref="SequenceClassificationOptions"/>) on the shared training loop: each entry's <see cref="AudioEntry.Label"/>
/// is one of the model's classes (config.json's id2label), recordings too short for one frame are skipped and counted,
/// time and channel masks, the backbone frozen for the first updates if asked, the cross-entropy summed over utterances
/// and divided by their number, linear warm-up and decay, validation by loss and accuracy with the best model by
/// accuracy kept in best/, and exact resume. checkpoint-N/, best/ and final/ are Hugging Face
/// Wav2Vec2ForSequenceClassification directories.
/// </summary>
/// <example><code>
/// AudioDataset train = AudioDataset.FromEntries(clips.Select((c, i) => AudioEntry.InMemory($"clip {i}", c) with { Label = names[i] }).ToList());
/// var options = new SequenceClassificationOptions { MaxUpdates = 300 };
/// var model = SequenceClassificationTrainer.CreateModel("pretrained", SequenceClassificationTrainer.CollectLabels(train), options, out _);
/// new SequenceClassificationTrainer(model, options, "run").Train(train);   // run/final is the classifier
/// </code></example>
public sealed class SequenceClassificationTrainer : ITrainer, ITrainingTask<ClassificationBatchMetrics>
{
    private readonly Wav2Vec2ForSequenceClassification _model;
    private readonly SequenceClassificationOptions _options;
    private readonly PolynomialDecaySchedule _schedule;
    private readonly RandomSource _maskRandom;
    private readonly TrainingLoop<ClassificationBatchMetrics> _loop;
    private int[] _labels = [];

    /// <summary>Prepares a run writing to <paramref name="outputDirectory"/>.</summary>
    /// <example><code>
    /// var trainer = new SequenceClassificationTrainer(model, new SequenceClassificationOptions(), "run") { Log = Console.WriteLine };
    /// </code></example>
    public SequenceClassificationTrainer(Wav2Vec2ForSequenceClassification model, SequenceClassificationOptions options, string outputDirectory)
    {
        _model = model;
        _options = options;
        _schedule = options.Schedule;
        model.Backbone.Random = new RandomSource(options.Seed);
        _maskRandom = new RandomSource(options.Seed + 0x9E3779B9UL);
        var optimizer = new AdamW(model.Parameters(), options.Optimizer);
        _loop = new TrainingLoop<ClassificationBatchMetrics>(this, optimizer, new LoopSettings(options.MaxUpdates, options.UpdateFreq,
            options.Seed, options.SaveInterval, options.ValidateInterval, 0, options.LogInterval, options.KeepLastCheckpoints,
            options.ClipNorm, options.Batching), outputDirectory);
    }

    /// <inheritdoc/>
    public Action<string> Log { get => _loop.Log; set => _loop.Log = value; }

    /// <inheritdoc/>
    public Action<int>? UpdateCompleted { get => _loop.UpdateCompleted; set => _loop.UpdateCompleted = value; }

    /// <inheritdoc/>
    public Action<TrainingLogEntry>? Logged { get => _loop.Logged; set => _loop.Logged = value; }

    /// <inheritdoc/>
    public TrainerState State => _loop.State;

    /// <inheritdoc/>
    public int MaxUpdates => _options.MaxUpdates;

    /// <summary>Training recordings left out because they are too short for one frame.</summary>
    public int SkippedUtterances { get; private set; }

    /// <summary>Restores the newest complete checkpoint-N of the output directory; false when there is none.</summary>
    /// <example><code>
    /// if (!trainer.TryResume()) Console.WriteLine("starting from update 0");
    /// </code></example>
    public bool TryResume() => _loop.TryResume();

    /// <summary>The distinct labels of a dataset's entries in ordinal order: the classes of a new head.</summary>
    /// <example><code>
    /// IReadOnlyList&lt;string&gt; classes = SequenceClassificationTrainer.CollectLabels(train);   // ["no", "yes"]
    /// </code></example>
    /// <exception cref="InvalidDataException">An entry has no label.</exception>
    public static IReadOnlyList<string> CollectLabels(AudioDataset train) =>
        train.Entries.Select(e => e.Label ?? throw new InvalidDataException($"{e.Path}: no label (classification needs labeled data)"))
            .Distinct().Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// A classifier to fine-tune: the backbone of <paramref name="pretrainedDirectory"/> (a wav2vec 2.0 backbone,
    /// pre-training, CTC or classification checkpoint: other heads are ignored and reported) with a new head over
    /// <paramref name="labels"/> built from <paramref name="options"/> (Hugging Face's initialisation), except a
    /// classification checkpoint over these very classes, whose head continues; config.json's regularisation and
    /// masking set from <paramref name="options"/> (kept in the saved config.json, as transformers does).
    /// </summary>
    /// <example><code>
    /// var model = SequenceClassificationTrainer.CreateModel("wav2vec2-base", ["no", "yes"], options, out LoadReport report);
    /// </code></example>
    /// <exception cref="InvalidDataException">The directory holds no complete wav2vec 2.0 backbone.</exception>
    public static Wav2Vec2ForSequenceClassification CreateModel(string pretrainedDirectory, IReadOnlyList<string> labels,
        SequenceClassificationOptions options, out LoadReport report)
    {
        Wav2Vec2Config config = PretrainedDirectory.LoadConfig(pretrainedDirectory);
        bool sameHead = config.Id2Label != null && config.Labels.SequenceEqual(labels)
            && config.Architectures?.Contains("Wav2Vec2ForSequenceClassification") == true;
        if (!sameHead)
            (config.ClassifierProjSize, config.UseWeightedLayerSum) = (options.ClassifierProjSize, options.UseWeightedLayerSum);
        config.SetLabels(labels);
        (config.HiddenDropout, config.AttentionDropout, config.ActivationDropout) = (options.HiddenDropout, options.AttentionDropout, options.ActivationDropout);
        (config.FeatProjDropout, config.LayerDrop) = (options.FeatProjDropout, options.LayerDrop);
        (config.MaskTimeProb, config.MaskTimeLength, config.MaskTimeMinMasks) = (options.MaskTimeProb, options.MaskTimeLength, options.MaskTimeMinMasks);
        (config.MaskFeatureProb, config.MaskFeatureLength) = (options.MaskFeatureProb, options.MaskFeatureLength);
        config.ApplySpecAugment = true;
        var model = new Wav2Vec2ForSequenceClassification(config, new RandomSource(options.Seed));
        report = FineTuning.Load(model, model.Backbone, pretrainedDirectory, sameHead, Wav2Vec2ForSequenceClassification.HeadTensorPrefixes);
        return model;
    }

    /// <summary>
    /// Trains until <see cref="SequenceClassificationOptions.MaxUpdates"/> or cancellation (the last completed update is
    /// then saved as a checkpoint). Every entry of both datasets needs a <see cref="AudioEntry.Label"/> among the
    /// model's classes; <paramref name="valid"/> drives best/.
    /// </summary>
    /// <example><code>
    /// trainer.Train(train, valid, cancellation.Token);
    /// </code></example>
    /// <exception cref="InvalidDataException">An entry has no label or one outside the model's classes (the file is
    /// named), or no training recording is long enough.</exception>
    public void Train(AudioDataset train, AudioDataset? valid = null, CancellationToken cancellationToken = default)
    {
        (AudioDataset usable, _labels, int skipped) = PrepareLabels(train);
        SkippedUtterances = skipped;
        if (skipped > 0)
            Log($"warning: skipped {skipped} training recording(s) too short for one frame");
        if (usable.Entries.Count == 0)
            throw new InvalidDataException("no training recording is long enough for the model");
        if (valid != null)
            PrepareLabels(valid);   // fail now, not at the first validation, on unknown labels
        Log(string.Create(CultureInfo.InvariantCulture, $"{usable.Entries.Count} training recordings ({usable.TotalSeconds / 60:F1} min), " +
            $"{_model.Config.Labels.Count} classes, {_model.ParameterCount():N0} parameters, {_options.MaxUpdates} updates"));
        _loop.Run(usable, valid, cancellationToken);
    }

    /// <summary>Accuracy and cross-entropy (nats per recording) of the model on a labeled dataset, one recording at a time.</summary>
    /// <example><code>
    /// (double accuracy, double loss) = trainer.Evaluate(test);
    /// </code></example>
    public (double Accuracy, double LossPerUtterance) Evaluate(AudioDataset data)
    {
        (AudioDataset usable, int[] labels, _) = PrepareLabels(data, skipShort: false);
        double loss = 0;
        int correct = 0;
        FineTuning.Evaluate(_model, _model.Backbone, usable, (i, input) =>
        {
            SequenceClassificationOutput output = _model.Forward(input, [labels[i]]);
            loss += output.Loss!.ToScalar();
            correct += System.Numerics.Tensors.TensorPrimitives.IndexOfMax(output.Logits.Span) == labels[i] ? 1 : 0;
        });
        int count = Math.Max(1, usable.Entries.Count);
        return ((double)correct / count, loss / count);
    }

    // Class ids of every entry; drops (and counts) recordings too short for one frame.
    private (AudioDataset Usable, int[] Labels, int Skipped) PrepareLabels(AudioDataset data, bool skipShort = true)
    {
        IReadOnlyList<string> classes = _model.Config.Labels;
        Dictionary<string, int> ids = classes.Select((name, id) => (name, id)).ToDictionary(p => p.name, p => p.id);
        return FineTuning.Encode(data, entry =>
        {
            string label = entry.Label ?? throw new InvalidDataException($"{entry.Path}: no label (classification needs labeled data)");
            return ids.TryGetValue(label, out int id) ? id
                : throw new InvalidDataException($"{entry.Path}: label '{label}' is not one of the model's classes ({string.Join(", ", classes)})");
        }, (entry, _) => FineTuning.Frames(entry, _model.Backbone) >= 1, skipShort);
    }

    Module ITrainingTask<ClassificationBatchMetrics>.Model => _model;

    InputValuesPreprocessor ITrainingTask<ClassificationBatchMetrics>.Preprocessor => _model.Preprocessor;

    RandomSource ITrainingTask<ClassificationBatchMetrics>.ModelRandom => _model.Backbone.Random;

    RandomSource ITrainingTask<ClassificationBatchMetrics>.MaskRandom => _maskRandom;

    ClassificationBatchMetrics ITrainingTask<ClassificationBatchMetrics>.Step(LoadedBatch batch)
    {
        int size = batch.BatchSize;
        int[] labels = batch.Entries.Select(i => _labels[i]).ToArray();
        Wav2Vec2ForwardOptions forward = FineTuning.BatchOptions(batch, _model.Backbone, _options.FeatureGradMult,
            (_options.MaskTimeProb, _options.MaskTimeLength, _options.MaskTimeMinMasks), (_options.MaskFeatureProb, _options.MaskFeatureLength),
            _maskRandom);
        _model.FreezeBackbone = _loop.State.Update < _options.FreezeBackboneUpdates;
        using var arena = new TensorArena();
        using var tape = new Tape();
        SequenceClassificationOutput output = _model.Forward(Tensor.FromArray(batch.Samples, size, batch.Length), labels, forward, Reduction.Sum);
        int classes = output.Logits.Size(1), correct = 0;
        for (int b = 0; b < size; b++)
            correct += System.Numerics.Tensors.TensorPrimitives.IndexOfMax(output.Logits.Span.Slice(b * classes, classes)) == labels[b] ? 1 : 0;
        double loss = output.Loss!.ToScalar();
        tape.Backward(output.Loss);   // releases the activations, the logits among them
        return new ClassificationBatchMetrics(loss, size, correct);
    }

    // The mean over the update's utterances, as Hugging Face's mean cross-entropy over a batch.
    double ITrainingTask<ClassificationBatchMetrics>.SampleSize(IReadOnlyList<ClassificationBatchMetrics> batches) => batches.Sum(b => b.Utterances);

    float ITrainingTask<ClassificationBatchMetrics>.LearningRate(int update) => _schedule.At(update - 1);

    void ITrainingTask<ClassificationBatchMetrics>.Describe(IReadOnlyList<ClassificationBatchMetrics> batches, JsonObject entry, List<string> line)
    {
        double loss = batches.Sum(b => b.Loss);
        int utterances = batches.Sum(b => b.Utterances), correct = batches.Sum(b => b.Correct);
        entry["loss"] = Math.Round(loss / utterances, 6);
        entry["accuracy"] = Math.Round((double)correct / utterances, 6);
        entry["utterances"] = utterances;
        entry["frozen_backbone"] = _model.FreezeBackbone;
        line.Add(string.Create(CultureInfo.InvariantCulture, $"loss {loss / utterances:F3} accuracy {(double)correct / utterances:F3}"));
    }

    (JsonObject Fields, string Line, double? Score) ITrainingTask<ClassificationBatchMetrics>.Validate(AudioDataset valid)
    {
        (double accuracy, double loss) = Evaluate(valid);
        var fields = new JsonObject { ["loss"] = Math.Round(loss, 6), ["accuracy"] = Math.Round(accuracy, 6), ["utterances"] = valid.Entries.Count };
        return (fields, string.Create(CultureInfo.InvariantCulture, $"loss {loss:F3} accuracy {accuracy:P2}"), 1 - accuracy);
    }

    void ITrainingTask<ClassificationBatchMetrics>.SaveModel(string directory) => _model.SavePretrained(directory);

    void ITrainingTask<ClassificationBatchMetrics>.LoadModel(string directory) => FineTuning.Restore(_model, _model.Backbone, directory);
}
