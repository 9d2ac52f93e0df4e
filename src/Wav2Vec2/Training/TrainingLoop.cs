using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Wav2Vec2.Audio;
using Wav2Vec2.Data;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Training;

/// <summary>What a training loop needs from the task it trains (pre-training, CTC fine-tuning).</summary>
internal interface ITrainingTask<TMetrics>
{
    /// <summary>The module whose parameters the optimizer updates.</summary>
    Module Model { get; }

    /// <summary>How files become input values.</summary>
    InputValuesPreprocessor Preprocessor { get; }

    /// <summary>The model's random stream (dropout, layer drop, Gumbel noise) and the data-side one (masks, distractors).</summary>
    RandomSource ModelRandom { get; }

    /// <inheritdoc cref="ModelRandom"/>
    RandomSource MaskRandom { get; }

    /// <summary>Forward and backward of one batch (gradients accumulate); returns its metrics.</summary>
    TMetrics Step(LoadedBatch batch);

    /// <summary>What the accumulated gradients are divided by (fairseq's sample_size).</summary>
    double SampleSize(IReadOnlyList<TMetrics> batches);

    /// <summary>The learning rate of update <paramref name="update"/> (1-based).</summary>
    float LearningRate(int update);

    /// <summary>Adds the task's metrics of a logged update to the JSON entry and the console line.</summary>
    void Describe(IReadOnlyList<TMetrics> batches, JsonObject entry, List<string> line);

    /// <summary>Evaluates on the validation set: JSON fields, console text and a score to minimise (null: keep no best).</summary>
    (JsonObject Fields, string Line, double? Score) Validate(AudioDataset valid);

    /// <summary>Writes the model as a Hugging Face directory.</summary>
    void SaveModel(string directory);

    /// <summary>Restores the model (weights and input preparation) from a checkpoint directory.</summary>
    void LoadModel(string directory);
}

/// <summary>The loop settings both trainers share.</summary>
internal sealed record LoopSettings(int MaxUpdates, int UpdateFreq, ulong Seed, int SaveInterval, int ValidateInterval,
    int ValidateAfterUpdates, int LogInterval, int KeepLastCheckpoints, double ClipNorm, BatchingOptions Batching);

/// <summary>
/// The training loop shared by pre-training and fine-tuning: seeded fairseq-style batches from a background loader,
/// gradient accumulation over update_freq batches normalised by the task's sample size, optional clipping, the
/// task's learning rate, JSON-lines metrics (train_log.jsonl) and console lines, validation on a schedule with the
/// best model kept in best/, and atomic resumable checkpoints: training 2N updates equals training N, resuming, and
/// training N more. Ctrl+C-style cancellation finishes the current batch and saves the last completed update.
/// </summary>
internal sealed class TrainingLoop<TMetrics>(ITrainingTask<TMetrics> task, AdamW optimizer, LoopSettings settings, string outputDirectory)
{
    private readonly CheckpointStore _store = new(Path.GetFullPath(outputDirectory), settings.KeepLastCheckpoints);
    private TrainerState _state = new();

    public Action<string> Log { get; set; } = Console.WriteLine;

    public Action<int>? UpdateCompleted { get; set; }

    public Action<TrainingLogEntry>? Logged { get; set; }

    public int SkippedFiles { get; private set; }

    public TrainerState State => _state;

    public string? LatestCheckpoint() => _store.Latest();

    public bool TryResume()
    {
        string? latest = _store.Latest();
        if (latest == null)
            return false;
        task.LoadModel(latest);
        _state = CheckpointStore.Restore(latest, optimizer);
        task.ModelRandom.Offset = _state.ModelRandomOffset;
        task.MaskRandom.Offset = _state.MaskRandomOffset;
        Log($"resumed from {latest} at update {_state.Update}");
        return true;
    }

    /// <summary>Trains until the last update or cancellation; the final model goes to final/ unless cancelled.</summary>
    /// <returns>Whether the run was cancelled.</returns>
    public bool Run(AudioDataset train, AudioDataset? valid, CancellationToken cancellationToken)
    {
        foreach (string skipped in train.Skipped)
            Log($"warning: skipped {skipped}");
        SkippedFiles = train.Skipped.Count;
        Directory.CreateDirectory(_store.RunDirectory);
        using var log = new StreamWriter(Path.Combine(_store.RunDirectory, "train_log.jsonl"), append: true);
        var accumulated = new List<TMetrics>();
        TrainerState boundary = Snapshot();
        var clock = Stopwatch.StartNew();
        long samplesSinceLog = 0;
        bool cancelled = false;
        task.Model.Train(true);
        while (_state.Update < settings.MaxUpdates && !cancelled)
        {
            IReadOnlyList<BatchPlan> plans = BatchSampler.Plan(train.Entries, settings.Batching, settings.Seed, _state.Epoch,
                task.Preprocessor.SamplingRate);
            if (plans.Count == 0)
                throw new InvalidDataException($"no recording is at least {settings.Batching.MinSampleSize} samples long");
            using (var loader = new BatchLoader(train, plans, _state.BatchPosition, task.Preprocessor, settings.Seed, _state.Epoch,
                settings.Batching.PadToLongest))
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
                    accumulated.Add(task.Step(batch));
                    samplesSinceLog += batch.SampleLengths.Sum(l => (long)l);
                    if (accumulated.Count < settings.UpdateFreq)
                        continue;
                    Update(accumulated, log, clock, ref samplesSinceLog);
                    accumulated.Clear();
                    boundary = Snapshot();
                    if (valid != null && settings.ValidateInterval > 0 && _state.Update % settings.ValidateInterval == 0
                        && _state.Update >= settings.ValidateAfterUpdates)
                        Validate(valid, log);
                    if (settings.SaveInterval > 0 && _state.Update % settings.SaveInterval == 0 && _state.Update < settings.MaxUpdates)
                        SaveCheckpoint();
                    if (_state.Update >= settings.MaxUpdates)
                        break;
                }
            }
            if (!cancelled && _state.Update < settings.MaxUpdates)
                _state = _state with { Epoch = _state.Epoch + 1, BatchPosition = 0 };
        }
        task.Model.ZeroGrad();
        // Batches accumulated after the last update are dropped: the saved state resumes right after that update.
        _state = boundary with { Update = _state.Update, BestScore = _state.BestScore };
        task.ModelRandom.Offset = _state.ModelRandomOffset;
        task.MaskRandom.Offset = _state.MaskRandomOffset;
        SaveCheckpoint();
        if (!cancelled)
            _store.SaveModel("final", task.SaveModel);
        Log(cancelled ? $"stopped at update {_state.Update}; resume with --resume" : $"finished {_state.Update} updates");
        return cancelled;
    }

    private void Update(List<TMetrics> batches, StreamWriter log, Stopwatch clock, ref long samples)
    {
        double sampleSize = task.SampleSize(batches);
        var parameters = task.Model.Parameters();
        foreach (Parameter p in parameters)
            if (p.Grad != null)
                System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad.Span, 1f / (float)sampleSize, p.Grad.Span);
        double gradNorm = GradientClipping.ClipByNorm(parameters, settings.ClipNorm);
        float lr = task.LearningRate(_state.Update + 1);
        optimizer.Options.LearningRate = lr;
        optimizer.Update();
        optimizer.ZeroGrad();
        _state = _state with { Update = _state.Update + 1 };
        UpdateCompleted?.Invoke(_state.Update);
        if (_state.Update % settings.LogInterval != 0 && _state.Update != settings.MaxUpdates)
            return;
        double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        clock.Restart();
        var entry = new JsonObject { ["split"] = "train", ["update"] = _state.Update };
        var line = new List<string> { $"update {_state.Update}/{settings.MaxUpdates}" };
        task.Describe(batches, entry, line);
        entry["lr"] = (double)(decimal)lr;
        entry["grad_norm"] = Math.Round(gradNorm, 6);
        entry["samples_per_second"] = Math.Round(samples / seconds, 1);
        entry["audio_seconds_per_second"] = Math.Round(samples / (double)task.Preprocessor.SamplingRate / seconds, 3);
        entry["skipped_files"] = SkippedFiles;
        samples = 0;
        Write(log, entry);
        line.Add(string.Create(CultureInfo.InvariantCulture, $"lr {lr:G3} grad_norm {gradNorm:F3}"));
        Log(string.Join(' ', line));
    }

    private void Validate(AudioDataset valid, StreamWriter log)
    {
        (JsonObject fields, string text, double? score) = task.Validate(valid);
        var entry = new JsonObject { ["split"] = "valid", ["update"] = _state.Update };
        foreach (var (key, value) in fields.ToList())
        {
            fields.Remove(key);
            entry[key] = value;
        }
        Write(log, entry);
        Log($"valid at update {_state.Update}: {text}");
        if (score is double current && (_state.BestScore == null || current < _state.BestScore))
        {
            _state = _state with { BestScore = current };
            Log($"saved {_store.SaveModel("best", task.SaveModel)} (best so far)");
        }
    }

    // A train_log.jsonl line, also handed to Logged with its numeric fields.
    private void Write(StreamWriter log, JsonObject entry)
    {
        log.WriteLine(entry.ToJsonString());
        log.Flush();
        if (Logged == null)
            return;
        var metrics = new Dictionary<string, double>();
        foreach (var (key, value) in entry)
            if (key is not ("split" or "update") && value?.GetValueKind() == System.Text.Json.JsonValueKind.Number)
                metrics[key] = double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);
        Logged(new TrainingLogEntry((string)entry["split"]!, _state.Update, metrics));
    }

    private void SaveCheckpoint() => Log($"saved {_store.Save(_state.Update, task.SaveModel, optimizer, Snapshot())}");

    private TrainerState Snapshot() => _state with
    {
        ModelRandomOffset = task.ModelRandom.Offset, MaskRandomOffset = task.MaskRandom.Offset,
    };
}
