using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wav2Vec2.Autograd;
using Wav2Vec2.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Training;

/// <summary>
/// The pre-training loop: seeded, fairseq-style batches from a background loader, span masks and distractors, the
/// wav2vec 2.0 loss, gradient accumulation over update_freq batches (gradients normalised by the number of masked
/// frames, as fairseq does), optional clipping, AdamW with warm-up and linear decay, JSON-lines metrics, validation,
/// and atomic resumable checkpoints: training 2N updates equals training N, resuming, and training N more.
/// </summary>
public sealed class PreTrainer
{
    private const string StateFile = "trainer_state.json", OptimizerFile = "optimizer.bin";
    private readonly Wav2Vec2ForPreTraining _model;
    private readonly PreTrainingOptions _options;
    private readonly AdamW _optimizer;
    private readonly RandomSource _maskRandom;
    private readonly string _outputDirectory;
    private TrainerState _state = new();
    private int _lowPerplexityStreak;

    /// <summary>Prepares a run writing to <paramref name="outputDirectory"/>.</summary>
    public PreTrainer(Wav2Vec2ForPreTraining model, PreTrainingOptions options, string outputDirectory)
    {
        _model = model;
        _options = options;
        _outputDirectory = outputDirectory;
        _optimizer = new AdamW(model.Parameters(), options.Optimizer with { LearningRate = options.LearningRate });
        model.FeatureGradMult = options.FeatureGradMult;
        model.FeaturePenaltyWeight = options.FeaturePenaltyWeight;
        model.Backbone.Random = new RandomSource(options.Seed);
        _maskRandom = new RandomSource(options.Seed + 0x9E3779B9UL);
        Directory.CreateDirectory(outputDirectory);
    }

    /// <summary>Progress and warnings, one line each (console by default).</summary>
    public Action<string> Log { get; set; } = Console.WriteLine;

    /// <summary>Called after every update with the number of completed updates (for progress displays).</summary>
    public Action<int>? UpdateCompleted { get; set; }

    /// <summary>Recordings that could not be decoded so far (also counted as "skipped_files" in train_log.jsonl).</summary>
    public int SkippedFiles { get; private set; }

    /// <summary>Where the run stands.</summary>
    public TrainerState State => _state;

    /// <summary>Restores the newest complete checkpoint-N of the output directory; false when there is none.</summary>
    public bool TryResume()
    {
        string? latest = LatestCheckpoint(_outputDirectory);
        if (latest == null)
            return false;
        PretrainedDirectory.LoadWeights(_model, latest, strict: true);
        _model.Backbone.Preprocessor = InputValuesPreprocessor.Load(Path.Combine(latest, "preprocessor_config.json"));
        using (FileStream stream = File.OpenRead(Path.Combine(latest, OptimizerFile)))
            _optimizer.Load(stream);
        _state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(Path.Combine(latest, StateFile)))
            ?? throw new InvalidDataException($"{latest}: empty trainer state");
        _model.Backbone.Random.Offset = _state.ModelRandomOffset;
        _maskRandom.Offset = _state.MaskRandomOffset;
        Log($"resumed from {latest} at update {_state.Update}");
        return true;
    }

    /// <summary>
    /// Trains until <see cref="PreTrainingOptions.MaxUpdates"/> or cancellation; on cancellation the state of the last
    /// completed update is saved as a checkpoint. The final model goes to final/.
    /// </summary>
    public void Train(AudioDataset train, AudioDataset? valid = null, CancellationToken cancellationToken = default)
    {
        foreach (string skipped in train.Skipped)
            Log($"warning: skipped {skipped}");
        SkippedFiles = train.Skipped.Count;
        using var log = new StreamWriter(Path.Combine(_outputDirectory, "train_log.jsonl"), append: true);
        var accumulated = new List<PreTrainingMetrics>();
        TrainerState boundary = Snapshot(_state.Epoch, _state.BatchPosition);
        var clock = Stopwatch.StartNew();
        long samplesSinceLog = 0;
        bool cancelled = false;
        _model.Train(true);
        while (_state.Update < _options.MaxUpdates && !cancelled)
        {
            IReadOnlyList<BatchPlan> plans = BatchSampler.Plan(train.Entries, _options.Batching, _options.Seed, _state.Epoch);
            if (plans.Count == 0)
                throw new InvalidDataException($"no recording is at least {_options.Batching.MinSampleSize} samples long");
            using (var loader = new BatchLoader(train, plans, _state.BatchPosition, _model.Backbone.Preprocessor, _options.Seed, _state.Epoch))
            {
                foreach (LoadedBatch batch in loader.Batches)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        cancelled = true;
                        break;
                    }
                    foreach (string skipped in batch.Skipped)
                        Log($"warning: skipped {skipped}");
                    SkippedFiles += batch.Skipped.Count;
                    _state = _state with { BatchPosition = batch.Position + 1 };
                    if (batch.BatchSize == 0)
                        continue;
                    accumulated.Add(Step(batch));
                    samplesSinceLog += batch.Samples.Length;
                    if (accumulated.Count < _options.UpdateFreq)
                        continue;
                    Update(accumulated, log, clock, ref samplesSinceLog);
                    accumulated.Clear();
                    boundary = Snapshot(_state.Epoch, _state.BatchPosition);
                    if (valid != null && _options.ValidateInterval > 0 && _state.Update % _options.ValidateInterval == 0)
                        Validate(valid, log);
                    if (_options.SaveInterval > 0 && _state.Update % _options.SaveInterval == 0 && _state.Update < _options.MaxUpdates)
                        SaveCheckpoint(Path.Combine(_outputDirectory, $"checkpoint-{_state.Update}"));
                    if (_state.Update >= _options.MaxUpdates)
                        break;
                }
            }
            if (!cancelled && _state.Update < _options.MaxUpdates)
                _state = _state with { Epoch = _state.Epoch + 1, BatchPosition = 0 };
        }
        _model.ZeroGrad();
        _state = boundary with { Update = _state.Update };
        _model.Backbone.Random.Offset = _state.ModelRandomOffset;
        _maskRandom.Offset = _state.MaskRandomOffset;
        SaveCheckpoint(Path.Combine(_outputDirectory, $"checkpoint-{_state.Update}"));
        if (!cancelled)
            _model.SavePretrained(Path.Combine(_outputDirectory, "final"));
        Log(cancelled ? $"stopped at update {_state.Update}; resume with --resume" : $"finished {_state.Update} updates");
    }

    /// <summary>Evaluation-mode loss and metrics over a dataset (fixed masks and distractors).</summary>
    public PreTrainingMetrics Evaluate(AudioDataset data)
    {
        _model.Train(false);
        var random = new RandomSource(_options.Seed ^ 0x5EEDUL);
        var all = new List<PreTrainingMetrics>();
        foreach (BatchPlan plan in BatchSampler.Plan(data.Entries, _options.Batching, _options.Seed, 0))
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


    private PreTrainingMetrics Step(LoadedBatch batch)
    {
        using var arena = new TensorArena();
        using var tape = new Tape();
        PreTrainingOutput output = Forward(batch, _maskRandom);
        tape.Backward(output.Loss);
        return output.Metrics;
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
        return _model.Forward(input, mask, negatives, _options.TemperatureAt(_state.Update));
    }

    private void Update(List<PreTrainingMetrics> batches, StreamWriter log, Stopwatch clock, ref long samples)
    {
        int sampleSize = batches.Sum(m => m.MaskedFrames);
        var parameters = _model.Parameters();
        foreach (Nn.Parameter p in parameters)
            if (p.Grad != null)
                System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad.Span, 1f / sampleSize, p.Grad.Span);
        double gradNorm = GradientClipping.ClipByNorm(parameters, _options.ClipNorm);
        float lr = _options.LearningRateAt(_state.Update + 1);
        _optimizer.Options.LearningRate = lr;
        _optimizer.Update();
        _optimizer.ZeroGrad();
        _state = _state with { Update = _state.Update + 1 };
        UpdateCompleted?.Invoke(_state.Update);
        if (_state.Update % _options.LogInterval != 0 && _state.Update != _options.MaxUpdates)
            return;
        PreTrainingMetrics m = Combine(batches);
        double seconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var entry = MetricsJson(m, "train");
        entry["lr"] = (double)(decimal)lr;
        entry["grad_norm"] = Math.Round(gradNorm, 6);
        entry["samples_per_second"] = Math.Round(samples / Math.Max(seconds, 1e-9), 1);
        entry["audio_seconds_per_second"] = Math.Round(samples / 16000.0 / Math.Max(seconds, 1e-9), 3);
        entry["skipped_files"] = SkippedFiles;
        samples = 0;
        log.WriteLine(entry.ToJsonString());
        log.Flush();
        Log(string.Create(CultureInfo.InvariantCulture, $"update {_state.Update}/{_options.MaxUpdates} loss {m.Loss / m.MaskedFrames / Math.Log(2):F3} " +
            $"acc {m.Accuracy:F3} code_ppl {m.CodePerplexity:F1} prob_ppl {m.ProbPerplexity:F1} temp {m.Temperature:F3} lr {lr:G3} grad_norm {gradNorm:F3}"));
        CheckCollapse(m);
    }

    private void Validate(AudioDataset valid, StreamWriter log)
    {
        PreTrainingMetrics m = Evaluate(valid);
        log.WriteLine(MetricsJson(m, "valid").ToJsonString());
        log.Flush();
        Log(string.Create(CultureInfo.InvariantCulture, $"valid at update {_state.Update}: loss {m.Loss / Math.Max(1, m.MaskedFrames) / Math.Log(2):F3} acc {m.Accuracy:F3}"));
    }

    private void CheckCollapse(PreTrainingMetrics m)
    {
        double codebook = _model.Config.NumCodevectorGroups * _model.Config.NumCodevectorsPerGroup;
        _lowPerplexityStreak = m.CodePerplexity < _options.CollapseFraction * codebook ? _lowPerplexityStreak + 1 : 0;
        if (_lowPerplexityStreak == _options.CollapseIntervals)
            Log(string.Create(CultureInfo.InvariantCulture, $"warning: code perplexity {m.CodePerplexity:F1} has stayed below {_options.CollapseFraction:P0} of the {codebook} codevectors for {_options.CollapseIntervals} logged updates: the codebook may be collapsing"));
    }

    // fairseq logs losses per masked frame in base 2.
    private JsonObject MetricsJson(PreTrainingMetrics m, string split)
    {
        double perFrame = 1.0 / Math.Max(1, m.MaskedFrames) / Math.Log(2);
        return new JsonObject
        {
            ["split"] = split, ["update"] = _state.Update, ["loss"] = Math.Round(m.Loss * perFrame, 6),
            ["contrastive_loss"] = Math.Round(m.ContrastiveLoss * perFrame, 6), ["diversity_loss"] = Math.Round(m.DiversityLoss, 6),
            ["feature_penalty"] = Math.Round(m.FeaturePenalty, 6), ["accuracy"] = Math.Round(m.Accuracy, 6),
            ["code_perplexity"] = Math.Round(m.CodePerplexity, 3), ["prob_perplexity"] = Math.Round(m.ProbPerplexity, 3),
            ["temperature"] = Math.Round(m.Temperature, 6),
        };
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

    private TrainerState Snapshot(int epoch, int position) => _state with
    {
        Epoch = epoch, BatchPosition = position,
        ModelRandomOffset = _model.Backbone.Random.Offset, MaskRandomOffset = _maskRandom.Offset,
    };

    // Written into a temporary sibling directory and renamed: a killed run never leaves a partial checkpoint-N.
    private void SaveCheckpoint(string directory)
    {
        TrainerState state = Snapshot(_state.Epoch, _state.BatchPosition);
        string temporary = directory + $".tmp-{Environment.ProcessId}";
        if (Directory.Exists(temporary))
            Directory.Delete(temporary, recursive: true);
        _model.SavePretrained(temporary);
        using (var stream = new FileStream(Path.Combine(temporary, OptimizerFile), FileMode.CreateNew))
            _optimizer.Save(stream);
        File.WriteAllText(Path.Combine(temporary, StateFile), JsonSerializer.Serialize(state, new JsonSerializerOptions { WriteIndented = true }));
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
        Directory.Move(temporary, directory);
        Log($"saved {directory}");
    }

    /// <summary>The complete checkpoint-N directory with the highest N, or null.</summary>
    public static string? LatestCheckpoint(string directory) => !Directory.Exists(directory) ? null
        : Directory.GetDirectories(directory, "checkpoint-*")
            .Select(d => (Path: d, Ok: int.TryParse(Path.GetFileName(d)["checkpoint-".Length..], out int n), N: n))
            .Where(d => d.Ok && File.Exists(Path.Combine(d.Path, StateFile)))
            .OrderByDescending(d => d.N).Select(d => d.Path).FirstOrDefault();
}
