using System.Globalization;
using System.Text.Json.Nodes;
using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.Data;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Training;

/// <summary>
/// Self-supervised pre-training (fairseq's wav2vec 2.0 recipe) on the shared <see cref="TrainingLoop{TMetrics}"/>:
/// span masks and distractors per batch, the contrastive + diversity + feature-penalty loss, gradients normalised by the
/// number of masked frames, AdamW with warm-up and linear decay, the Gumbel temperature schedule, a codebook-collapse
/// warning, JSON-lines metrics, validation, and atomic resumable checkpoints: training 2N updates equals training N,
/// resuming, and training N more.
/// </summary>
public sealed class PreTrainer : Trainer, ITrainingTask<PreTrainingMetrics>
{
    private readonly Wav2Vec2ForPreTraining _model;
    private readonly PreTrainingOptions _options;
    private int _lowPerplexityStreak;

    /// <summary>Prepares a run writing to <paramref name="runDirectory"/>.</summary>
    /// <exception cref="ArgumentException">The model's config disagrees with the options on the objective or regularisation
    /// (build it from <see cref="PreTrainingOptions.Configure"/>), or a setting is out of range.</exception>
    public PreTrainer(Wav2Vec2ForPreTraining model, PreTrainingOptions options, string runDirectory)
    {
        options.Validate();
        if (options.Mismatch(model.Config) is string mismatch)
            throw new ArgumentException($"{mismatch}: build the model from PreTrainingOptions.Configure(architecture)");
        _model = model;
        model.Backbone.Preprocessor = model.Backbone.Preprocessor with { DoNormalize = options.Normalize };
        _options = options;
        model.FeatureGradMult = options.Regularization.FeatureGradMult;
        model.FeaturePenaltyWeight = options.FeaturePenaltyWeight;
        Start(model, this, options, runDirectory);
    }

    /// <summary>The model being trained (its weights are the newest update's).</summary>
    public Wav2Vec2ForPreTraining Model => _model;

    /// <summary>
    /// The run setup the command line and ML.NET share: the model to pre-train (<paramref name="architecture"/> with
    /// the recipe's objective and regularisation, initialised with the recipe's seed and, when
    /// <paramref name="initialModelDirectory"/> is given, the weights stored there: a backbone, pre-training or task
    /// checkpoint, whose input normalisation is reported when it differs from the recipe's), a run directory that holds
    /// no other run's checkpoints unless <paramref name="resume"/>, and the trainer, resumed from the newest checkpoint
    /// when asked. Reports what it did, and the recipe, through <paramref name="log"/>.
    /// </summary>
    /// <example><code>
    /// var trainer = PreTrainer.Prepare(Wav2Vec2Config.Preset("tiny"), PreTrainingOptions.Presets["tiny"], "run");
    /// trainer.Train(AudioDataset.Open("corpus"));
    /// </code></example>
    /// <exception cref="RunDirectoryInUseException">The run directory holds checkpoints and <paramref name="resume"/> is false.</exception>
    public static PreTrainer Prepare(Wav2Vec2Config architecture, PreTrainingOptions options, string runDirectory, bool resume = false,
        string? initialModelDirectory = null, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        CheckpointStore.CheckNewRun(runDirectory, resume);
        var model = new Wav2Vec2ForPreTraining(options.Configure(architecture), new RandomSource(options.Run.Seed));
        if (initialModelDirectory != null)
        {
            initialModelDirectory = PretrainedDirectory.Resolve(initialModelDirectory);
            PretrainedDirectory.LoadWeights(model, initialModelDirectory, strict: false);
            var stored = InputValuesPreprocessor.Load(Path.Combine(initialModelDirectory, "preprocessor_config.json"));
            if (stored.DoNormalize != options.Normalize)
                log($"warning: {initialModelDirectory}/preprocessor_config.json says do_normalize={stored.DoNormalize.ToString().ToLowerInvariant()}, " +
                    $"the recipe trains on {(options.Normalize ? "normalised input" : "raw waveforms")}");
            log($"initialised from {initialModelDirectory}");
        }
        PreTrainer trainer = Resumed(new PreTrainer(model, options, runDirectory), resume, log);
        log($"{model.ParameterCount():N0} parameters");
        foreach (string line in options.Describe())
            log(line);
        return trainer;
    }

    /// <summary>
    /// The architecture a run pre-trains: <paramref name="config"/>, else <paramref name="initialModelDirectory"/>'s
    /// config.json, else the preset's (<see cref="Wav2Vec2Config.Preset"/>).
    /// </summary>
    /// <exception cref="ArgumentException">None of the three is given.</exception>
    public static Wav2Vec2Config Architecture(Wav2Vec2Config? config, string? initialModelDirectory, string? preset) =>
        config?.Clone() ?? (initialModelDirectory != null ? PretrainedDirectory.LoadConfig(PretrainedDirectory.Resolve(initialModelDirectory))
            : preset != null ? Wav2Vec2Config.Preset(preset)
            : throw new ArgumentException("an architecture is needed: a config, an initial model or a preset"));

    /// <inheritdoc/>
    public override void Train(AudioDataset train, AudioDataset? valid = null, CancellationToken cancellationToken = default)
    {
        Log(string.Create(CultureInfo.InvariantCulture, $"{train.Entries.Count} recordings ({train.TotalSeconds / 60:F1} min, {train.Skipped.Count} skipped)" +
            $"{(valid == null ? "" : $", {valid.Entries.Count} for validation")}"));
        Loop.Run(train, valid, cancellationToken);
    }

    /// <summary>Evaluation-mode loss and metrics over a dataset (fixed masks and distractors), named as train_log.jsonl
    /// names them (loss and contrastive loss in bits per masked frame, accuracy, code and prob perplexity, ...).</summary>
    private protected override IReadOnlyDictionary<string, double> EvaluateMetrics(AudioDataset data)
    {
        _model.Train(false);
        var random = new RandomSource(_options.Run.Seed ^ 0x5EEDUL);
        var all = new List<PreTrainingMetrics>();
        foreach (BatchPlan plan in BatchSampler.Plan(data.Entries, _options.Batching, _options.Run.Seed, 0, _model.Backbone.Preprocessor.SamplingRate))
        {
            LoadedBatch batch = BatchLoader.Load(data, plan, 0, _model.Backbone.Preprocessor, _options.Run.Seed, 0);
            if (batch.BatchSize == 0)
                continue;
            using var arena = new TensorArena();
            using var noGrad = Tape.NoGrad();
            all.Add(Forward(batch, random).Metrics);
        }
        _model.Train(true);
        var fields = new JsonObject();
        AddMetrics(Combine(all), fields);
        var metrics = fields.ToDictionary(f => f.Key, f => f.Value!.GetValue<double>());
        metrics["utterances"] = data.Entries.Count;
        return metrics;
    }

    PreTrainingMetrics ITrainingTask<PreTrainingMetrics>.Step(LoadedBatch batch)
    {
        using var arena = new TensorArena();
        using var tape = new Tape();
        PreTrainingOutput output = Forward(batch, MaskRandom);
        tape.Backward(output.Loss);
        return output.Metrics;
    }

    double ITrainingTask<PreTrainingMetrics>.SampleSize(IReadOnlyList<PreTrainingMetrics> batches) => batches.Sum(m => m.MaskedFrames);

    void ITrainingTask<PreTrainingMetrics>.Describe(IReadOnlyList<PreTrainingMetrics> batches, JsonObject entry, List<string> line)
    {
        PreTrainingMetrics m = Combine(batches);
        AddMetrics(m, entry);
        line.Add(string.Create(CultureInfo.InvariantCulture, $"loss {m.Loss / m.MaskedFrames / Math.Log(2):F3} acc {m.Accuracy:F3} " +
            $"code_ppl {m.CodePerplexity:F1} prob_ppl {m.ProbPerplexity:F1} temp {m.Temperature:F3}"));
        CheckCollapse(m);
    }

    IReadOnlyDictionary<string, double> ITrainingTask<PreTrainingMetrics>.Evaluate(AudioDataset data) => EvaluateMetrics(data);

    double? ITrainingTask<PreTrainingMetrics>.Score(IReadOnlyDictionary<string, double> metrics) => null;

    string ITrainingTask<PreTrainingMetrics>.Describe(IReadOnlyDictionary<string, double> metrics) =>
        string.Create(CultureInfo.InvariantCulture, $"loss {metrics["loss"]:F3} acc {metrics["accuracy"]:F3}");

    private PreTrainingOutput Forward(LoadedBatch batch, RandomSource random)
    {
        Wav2Vec2Config config = _model.Config;
        int frames = _model.Backbone.FrameCount(batch.Length);
        bool[] mask = SpanMasking.ComputeMaskIndices(batch.BatchSize, frames, config.MaskTimeProb, config.MaskTimeLength,
            config.MaskTimeMinMasks, random);
        int masked = mask.Count(m => m) / batch.BatchSize;
        int[] negatives = SpanMasking.SampleNegatives(batch.BatchSize, masked, config.NumNegatives, random);
        Tensor input = Tensor.FromArray(batch.Samples, batch.BatchSize, batch.Length);
        return _model.Forward(input, mask, negatives, _options.TemperatureAt(State.Update),
            diversityLossWeight: _options.DiversityWeightAt(State.Update));
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
        entry["blocked_distractors"] = Math.Round(m.Distractors == 0 ? 0 : (double)m.BlockedDistractors / m.Distractors, 6);
    }

    // Sums of losses and counts; perplexities and penalties averaged over the batches.
    private static PreTrainingMetrics Combine(IReadOnlyList<PreTrainingMetrics> batches) => batches.Count == 0 ? new PreTrainingMetrics() : new PreTrainingMetrics
    {
        Loss = batches.Sum(b => b.Loss), ContrastiveLoss = batches.Sum(b => b.ContrastiveLoss),
        DiversityLoss = batches.Average(b => b.DiversityLoss), FeaturePenalty = batches.Average(b => b.FeaturePenalty),
        Correct = batches.Sum(b => b.Correct), MaskedFrames = batches.Sum(b => b.MaskedFrames),
        CodePerplexity = batches.Average(b => b.CodePerplexity), ProbPerplexity = batches.Average(b => b.ProbPerplexity),
        Temperature = batches[^1].Temperature,
        BlockedDistractors = batches.Sum(b => b.BlockedDistractors), Distractors = batches.Sum(b => b.Distractors),
    };
}
