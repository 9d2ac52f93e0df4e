using System.Globalization;
using System.Text.Json.Nodes;
using Wav2Vec2.Autograd;
using Wav2Vec2.Data;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
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
/// var options = new TrainingOverrides { MaxUpdates = 300 }.ApplyTo(new SequenceClassificationOptions());
/// var model = SequenceClassificationTrainer.CreateModel("pretrained", SequenceClassificationTrainer.CollectLabels(train), options, out _);
/// new SequenceClassificationTrainer(model, options, "run").Train(train);   // run/final is the classifier
/// </code></example>
public sealed class SequenceClassificationTrainer : Trainer, ITrainingTask<ClassificationBatchMetrics>
{
    private readonly Wav2Vec2ForSequenceClassification _model;
    private readonly SequenceClassificationOptions _options;
    private int[] _labels = [];

    /// <summary>Prepares a run writing to <paramref name="runDirectory"/>.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public SequenceClassificationTrainer(Wav2Vec2ForSequenceClassification model, SequenceClassificationOptions options, string runDirectory)
    {
        options.Validate();
        _model = model;
        _options = options;
        Start(model, this, options, runDirectory);
    }

    /// <summary>The model being trained (its weights are the newest update's).</summary>
    public Wav2Vec2ForSequenceClassification Model => _model;

    /// <summary>
    /// The run setup the command line and ML.NET share: a run directory that holds no other run's checkpoints unless
    /// <paramref name="resume"/>, the model (<see cref="CreateModel"/> over <paramref name="labels"/>) and the trainer,
    /// resumed from the newest checkpoint when asked. Reports each choice through <paramref name="log"/>.
    /// </summary>
    /// <example><code>
    /// var trainer = SequenceClassificationTrainer.Prepare("wav2vec2-base", SequenceClassificationTrainer.CollectLabels(train),
    ///     new SequenceClassificationOptions(), "run");
    /// trainer.Train(train, dev);   // run/best is the classifier
    /// </code></example>
    /// <exception cref="RunDirectoryInUseException">The run directory holds checkpoints and <paramref name="resume"/> is false.</exception>
    /// <exception cref="InvalidDataException">The directory holds no complete wav2vec 2.0 backbone.</exception>
    public static SequenceClassificationTrainer Prepare(string pretrainedDirectory, IReadOnlyList<string> labels,
        SequenceClassificationOptions options, string runDirectory, bool resume = false, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        CheckpointStore.CheckNewRun(runDirectory, resume);
        Wav2Vec2ForSequenceClassification model = CreateModel(pretrainedDirectory, labels, options, out LoadReport report);
        log(Initialised(pretrainedDirectory, report, $"head over {labels.Count} classes: {string.Join(", ", labels)}"));
        return Resumed(new SequenceClassificationTrainer(model, options, runDirectory), resume, log);
    }

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
        pretrainedDirectory = PretrainedDirectory.Resolve(pretrainedDirectory);
        Wav2Vec2Config config = options.Regularization.ApplyTo(PretrainedDirectory.LoadConfig(pretrainedDirectory));
        bool sameHead = config.Id2Label != null && config.Labels.SequenceEqual(labels)
            && config.Architectures?.Contains("Wav2Vec2ForSequenceClassification") == true;
        if (!sameHead)
            (config.ClassifierProjSize, config.UseWeightedLayerSum) = (options.ClassifierProjSize, options.UseWeightedLayerSum);
        config.SetLabels(labels);
        var model = new Wav2Vec2ForSequenceClassification(config, new RandomSource(options.Run.Seed));
        report = FineTuning.Load(model, model.Backbone, pretrainedDirectory, sameHead, Wav2Vec2ForSequenceClassification.HeadTensorPrefixes);
        return model;
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">An entry has no label or one outside the model's classes (the file is
    /// named), or no training recording is long enough.</exception>
    public override void Train(AudioDataset train, AudioDataset? valid = null, CancellationToken cancellationToken = default)
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
            $"{_model.Config.Labels.Count} classes, {_model.ParameterCount():N0} parameters, {_options.Optimization.MaxUpdates} updates"));
        Loop.Run(usable, valid, cancellationToken);
    }

    /// <summary>Accuracy and cross-entropy of the model on a labeled dataset, one recording at a time, as validation
    /// logs them: "loss" (nats per recording), "accuracy", "utterances".</summary>
    /// <example><code>
    /// double accuracy = trainer.Evaluate(test).Metrics["accuracy"];
    /// </code></example>
    private protected override IReadOnlyDictionary<string, double> EvaluateMetrics(AudioDataset data)
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
        return new Dictionary<string, double>
        {
            ["loss"] = Math.Round(loss / count, 6), ["accuracy"] = Math.Round((double)correct / count, 6), ["utterances"] = usable.Entries.Count,
        };
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

    ClassificationBatchMetrics ITrainingTask<ClassificationBatchMetrics>.Step(LoadedBatch batch)
    {
        int size = batch.BatchSize;
        int[] labels = batch.Entries.Select(i => _labels[i]).ToArray();
        Wav2Vec2ForwardOptions forward = FineTuning.BatchOptions(batch, _model.Backbone, _options.Regularization, MaskRandom);
        _model.FreezeBackbone = State.Update < _options.FreezeBackboneUpdates;
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

    IReadOnlyDictionary<string, double> ITrainingTask<ClassificationBatchMetrics>.Evaluate(AudioDataset data) => EvaluateMetrics(data);

    double? ITrainingTask<ClassificationBatchMetrics>.Score(IReadOnlyDictionary<string, double> metrics) => 1 - metrics["accuracy"];

    string ITrainingTask<ClassificationBatchMetrics>.Describe(IReadOnlyDictionary<string, double> metrics) => string.Create(CultureInfo.InvariantCulture,
        $"loss {metrics["loss"]:F3} accuracy {metrics["accuracy"]:P2}");

}
