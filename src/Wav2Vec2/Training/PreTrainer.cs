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

/// <summary>
/// Self-supervised pre-training (fairseq's wav2vec 2.0 recipe) on the shared <see cref="TrainingLoop{TMetrics}"/>:
/// span masks and distractors per batch, the contrastive + diversity + feature-penalty loss, gradients normalised by the
/// number of masked frames, AdamW with warm-up and linear decay, the Gumbel temperature schedule, a codebook-collapse
/// warning, JSON-lines metrics, validation, and atomic resumable checkpoints: training 2N updates equals training N,
/// resuming, and training N more.
/// </summary>
public sealed class PreTrainer : ITrainer, ITrainingTask<PreTrainingMetrics>
{
    private readonly Wav2Vec2ForPreTraining _model;
    private readonly PreTrainingOptions _options;
    private readonly RandomSource _maskRandom;
    private readonly TrainingLoop<PreTrainingMetrics> _loop;
    private int _lowPerplexityStreak;

    /// <summary>Prepares a run writing to <paramref name="outputDirectory"/>.</summary>
    /// <exception cref="ArgumentException">The model's config disagrees with the options on the objective or regularisation
    /// (build it from <see cref="PreTrainingOptions.Configure"/>).</exception>
    public PreTrainer(Wav2Vec2ForPreTraining model, PreTrainingOptions options, string outputDirectory)
    {
        if (options.Mismatch(model.Config) is string mismatch)
            throw new ArgumentException($"{mismatch}: build the model from PreTrainingOptions.Configure(architecture)");
        _model = model;
        model.Backbone.Preprocessor = model.Backbone.Preprocessor with { DoNormalize = options.Normalize };
        _options = options;
        var optimizer = new AdamW(model.Parameters(), options.Optimizer with { LearningRate = options.LearningRate });
        model.FeatureGradMult = options.FeatureGradMult;
        model.FeaturePenaltyWeight = options.FeaturePenaltyWeight;
        model.Backbone.Random = new RandomSource(options.Seed);
        _maskRandom = new RandomSource(options.Seed + 0x9E3779B9UL);
        _loop = new TrainingLoop<PreTrainingMetrics>(this, optimizer, new LoopSettings(options.MaxUpdates, options.UpdateFreq,
            options.Seed, options.SaveInterval, options.ValidateInterval, 0, options.LogInterval, 0, options.ClipNorm,
            options.Batching), outputDirectory);
    }

    /// <inheritdoc/>
    public Action<string> Log { get => _loop.Log; set => _loop.Log = value; }

    /// <inheritdoc/>
    public Action<int>? UpdateCompleted { get => _loop.UpdateCompleted; set => _loop.UpdateCompleted = value; }

    /// <inheritdoc/>
    public Action<TrainingLogEntry>? Logged { get => _loop.Logged; set => _loop.Logged = value; }

    /// <summary>Recordings that could not be decoded so far (also counted as "skipped_files" in train_log.jsonl).</summary>
    public int SkippedFiles => _loop.SkippedFiles;

    /// <inheritdoc/>
    public TrainerState State => _loop.State;

    /// <inheritdoc/>
    public int MaxUpdates => _options.MaxUpdates;

    /// <summary>Restores the newest complete checkpoint-N of the output directory; false when there is none.</summary>
    public bool TryResume() => _loop.TryResume();

    /// <summary>
    /// The model to pre-train: <paramref name="architecture"/> with the recipe's objective and regularisation
    /// (<see cref="PreTrainingOptions.Configure"/>), initialised with the recipe's seed and, when
    /// <paramref name="initialModelDirectory"/> is given, the weights stored there (a backbone, pre-training or task
    /// checkpoint; tensors it lacks keep their initialisation and are reported in <paramref name="report"/>).
    /// </summary>
    /// <example><code>
    /// PreTrainingOptions recipe = PreTrainingOptions.Tiny(2000);
    /// var model = PreTrainer.CreateModel(Wav2Vec2Config.Preset("tiny"), recipe, initialModelDirectory: null, out _);
    /// new PreTrainer(model, recipe, "run").Train(AudioDataset.Open("corpus"));
    /// </code></example>
    public static Wav2Vec2ForPreTraining CreateModel(Wav2Vec2Config architecture, PreTrainingOptions options, string? initialModelDirectory,
        out LoadReport? report)
    {
        var model = new Wav2Vec2ForPreTraining(options.Configure(architecture), new RandomSource(options.Seed));
        report = initialModelDirectory == null ? null : PretrainedDirectory.LoadWeights(model, initialModelDirectory, strict: false);
        return model;
    }

    /// <summary>
    /// Trains until <see cref="PreTrainingOptions.MaxUpdates"/> or cancellation; on cancellation the state of the last
    /// completed update is saved as a checkpoint. The final model goes to final/.
    /// </summary>
    public void Train(AudioDataset train, AudioDataset? valid = null, CancellationToken cancellationToken = default) =>
        _loop.Run(train, valid, cancellationToken);

    /// <summary>Evaluation-mode loss and metrics over a dataset (fixed masks and distractors).</summary>
    public PreTrainingMetrics Evaluate(AudioDataset data)
    {
        _model.Train(false);
        var random = new RandomSource(_options.Seed ^ 0x5EEDUL);
        var all = new List<PreTrainingMetrics>();
        foreach (BatchPlan plan in BatchSampler.Plan(data.Entries, _options.Batching, _options.Seed, 0, _model.Backbone.Preprocessor.SamplingRate))
        {
            LoadedBatch batch = BatchLoader.Load(data, plan, 0, _model.Backbone.Preprocessor, _options.Seed, 0);
            if (batch.BatchSize == 0)
                continue;
            using var arena = new TensorArena();
            using var noGrad = Tape.NoGrad();
            all.Add(Forward(batch, random).Metrics);
        }
        _model.Train(true);
        return Combine(all);
    }

    /// <summary>The complete checkpoint-N directory with the highest N, or null.</summary>
    public static string? LatestCheckpoint(string directory) => new CheckpointStore(directory, 0).Latest();

    Module ITrainingTask<PreTrainingMetrics>.Model => _model;

    InputValuesPreprocessor ITrainingTask<PreTrainingMetrics>.Preprocessor => _model.Backbone.Preprocessor;

    RandomSource ITrainingTask<PreTrainingMetrics>.ModelRandom => _model.Backbone.Random;

    RandomSource ITrainingTask<PreTrainingMetrics>.MaskRandom => _maskRandom;

    PreTrainingMetrics ITrainingTask<PreTrainingMetrics>.Step(LoadedBatch batch)
    {
        using var arena = new TensorArena();
        using var tape = new Tape();
        PreTrainingOutput output = Forward(batch, _maskRandom);
        tape.Backward(output.Loss);
        return output.Metrics;
    }

    double ITrainingTask<PreTrainingMetrics>.SampleSize(IReadOnlyList<PreTrainingMetrics> batches) => batches.Sum(m => m.MaskedFrames);

    float ITrainingTask<PreTrainingMetrics>.LearningRate(int update) => _options.LearningRateAt(update);

    void ITrainingTask<PreTrainingMetrics>.Describe(IReadOnlyList<PreTrainingMetrics> batches, JsonObject entry, List<string> line)
    {
        PreTrainingMetrics m = Combine(batches);
        AddMetrics(m, entry);
        line.Add(string.Create(CultureInfo.InvariantCulture, $"loss {m.Loss / m.MaskedFrames / Math.Log(2):F3} acc {m.Accuracy:F3} " +
            $"code_ppl {m.CodePerplexity:F1} prob_ppl {m.ProbPerplexity:F1} temp {m.Temperature:F3}"));
        CheckCollapse(m);
    }

    (JsonObject Fields, string Line, double? Score) ITrainingTask<PreTrainingMetrics>.Validate(AudioDataset valid)
    {
        PreTrainingMetrics m = Evaluate(valid);
        var fields = new JsonObject();
        AddMetrics(m, fields);
        return (fields, string.Create(CultureInfo.InvariantCulture,
            $"loss {m.Loss / Math.Max(1, m.MaskedFrames) / Math.Log(2):F3} acc {m.Accuracy:F3}"), null);
    }

    void ITrainingTask<PreTrainingMetrics>.SaveModel(string directory) => _model.SavePretrained(directory);

    void ITrainingTask<PreTrainingMetrics>.LoadModel(string directory)
    {
        PretrainedDirectory.LoadWeights(_model, directory, strict: true);
        _model.Backbone.Preprocessor = InputValuesPreprocessor.Load(Path.Combine(directory, "preprocessor_config.json"));
    }

    private PreTrainingOutput Forward(LoadedBatch batch, RandomSource random)
    {
        Wav2Vec2Config config = _model.Config;
        int frames = _model.Backbone.FrameCount(batch.Length);
        bool[] mask = SpanMasking.ComputeMaskIndices(batch.BatchSize, frames, config.MaskTimeProb, config.MaskTimeLength,
            config.MaskTimeMinMasks, random);
        int masked = mask.Count(m => m) / batch.BatchSize;
        int[] negatives = SpanMasking.SampleNegatives(batch.BatchSize, masked, config.NumNegatives, random);
        Tensor input = Tensor.FromArray(batch.Samples, batch.BatchSize, batch.Length);
        return _model.Forward(input, mask, negatives, _options.TemperatureAt(_loop.State.Update));
    }

    private void CheckCollapse(PreTrainingMetrics m)
    {
        double codebook = _model.Config.NumCodevectorGroups * _model.Config.NumCodevectorsPerGroup;
        _lowPerplexityStreak = m.CodePerplexity < _options.CollapseFraction * codebook ? _lowPerplexityStreak + 1 : 0;
        if (_lowPerplexityStreak == _options.CollapseIntervals)
            Log(string.Create(CultureInfo.InvariantCulture, $"warning: code perplexity {m.CodePerplexity:F1} has stayed below {_options.CollapseFraction:P0} of the {codebook} codevectors for {_options.CollapseIntervals} logged updates: the codebook may be collapsing"));
    }

    // fairseq logs losses per masked frame in base 2.
    private static void AddMetrics(PreTrainingMetrics m, JsonObject entry)
    {
        double perFrame = 1.0 / Math.Max(1, m.MaskedFrames) / Math.Log(2);
        entry["loss"] = Math.Round(m.Loss * perFrame, 6);
        entry["contrastive_loss"] = Math.Round(m.ContrastiveLoss * perFrame, 6);
        entry["diversity_loss"] = Math.Round(m.DiversityLoss, 6);
        entry["feature_penalty"] = Math.Round(m.FeaturePenalty, 6);
        entry["accuracy"] = Math.Round(m.Accuracy, 6);
        entry["code_perplexity"] = Math.Round(m.CodePerplexity, 3);
        entry["prob_perplexity"] = Math.Round(m.ProbPerplexity, 3);
        entry["temperature"] = Math.Round(m.Temperature, 6);
    }

    // Sums of losses and counts; perplexities and penalties averaged over the batches.
    private static PreTrainingMetrics Combine(IReadOnlyList<PreTrainingMetrics> batches) => batches.Count == 0 ? new PreTrainingMetrics() : new PreTrainingMetrics
    {
        Loss = batches.Sum(b => b.Loss), ContrastiveLoss = batches.Sum(b => b.ContrastiveLoss),
        DiversityLoss = batches.Average(b => b.DiversityLoss), FeaturePenalty = batches.Average(b => b.FeaturePenalty),
        Correct = batches.Sum(b => b.Correct), MaskedFrames = batches.Sum(b => b.MaskedFrames),
        CodePerplexity = batches.Average(b => b.CodePerplexity), ProbPerplexity = batches.Average(b => b.ProbPerplexity),
        Temperature = batches[^1].Temperature,
    };
}
