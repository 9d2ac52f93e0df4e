using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wav2Vec2.Audio;
using Wav2Vec2.Data;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Training;

/// <summary>What a training loop needs from the task it trains (pre-training, CTC or classification fine-tuning).</summary>
internal interface ITrainingTask<TMetrics>
{
    /// <summary>Forward and backward of one batch (gradients accumulate); returns its metrics.</summary>
    TMetrics Step(LoadedBatch batch);

    /// <summary>What the accumulated gradients are divided by (fairseq's sample_size).</summary>
    double SampleSize(IReadOnlyList<TMetrics> batches);

    /// <summary>Adds the task's metrics of a logged update to the JSON entry and the console line.</summary>
    void Describe(IReadOnlyList<TMetrics> batches, JsonObject entry, List<string> line);

    /// <summary>The model's figures on a labeled dataset (the validation set), named as train_log.jsonl names them.</summary>
    IReadOnlyDictionary<string, double> Evaluate(AudioDataset data);

    /// <summary>The validation figure to minimise for best/, or null to keep no best model.</summary>
    double? Score(IReadOnlyDictionary<string, double> metrics);

    /// <summary>The console text of a validation.</summary>
    string Describe(IReadOnlyDictionary<string, double> metrics);
}

/// <summary>What the trainers reach of their loop, whatever their metrics.</summary>
internal abstract class TrainingLoop(CheckpointStore store, int maxUpdates)
{
    private protected readonly CheckpointStore Store = store;

    public Action<string> Log { get; set; } = Console.WriteLine;

    public Action<int>? UpdateCompleted { get; set; }

    public Action<TrainingLogEntry>? Logged { get; set; }

    public int SkippedFiles { get; private protected set; }

    public TrainerState State { get; private protected set; } = new();

    public int MaxUpdates { get; } = maxUpdates;

    public string RunDirectory => Store.RunDirectory;

    public abstract bool TryResume();

    /// <summary>Trains until the last update or cancellation; the final model goes to final/ unless cancelled.</summary>
    /// <returns>Whether the run was cancelled.</returns>
    public abstract bool Run(AudioDataset train, AudioDataset? valid, CancellationToken cancellationToken);
}

/// <summary>
/// The training loop shared by pre-training and fine-tuning: seeded fairseq-style batches from a background loader,
/// gradient accumulation over update_freq batches normalised by the task's sample size, optional clipping, the
/// recipe's learning-rate schedule, JSON-lines metrics (train_log.jsonl) and console lines, validation on a schedule with the
/// best model kept in best/, and atomic resumable checkpoints: training 2N updates equals training N, resuming, and
/// training N more. Ctrl+C-style cancellation finishes the current batch and saves the last completed update.
/// </summary>
internal sealed class TrainingLoop<TMetrics>(Wav2Vec2TaskModel model, RandomSource maskRandom, ITrainingTask<TMetrics> task,
    AdamW optimizer, TrainingOptions options, string runDirectory)
    : TrainingLoop(new CheckpointStore(Path.GetFullPath(runDirectory), options.Run.KeepLastCheckpoints), options.Optimization.MaxUpdates)
{
    private readonly RunOptions _run = options.Run;
    private readonly OptimizationOptions _optimization = options.Optimization;
    private readonly BatchingOptions _batching = options.Batching;

    public override bool TryResume()
    {
        string? latest = Store.Latest();
        if (latest == null)
            return false;
        PretrainedDirectory.Restore(model, latest);
        State = CheckpointStore.Restore(latest, optimizer);
        model.Backbone.Random.Offset = State.ModelRandomOffset;
        maskRandom.Offset = State.MaskRandomOffset;
        TrimLog(State.Update);
        Log($"resumed from {latest} at update {State.Update}");
        return true;
    }

    // The lines a killed or cancelled run wrote after its last checkpoint are written again by the resumed run: drop
    // them, so that train_log.jsonl holds each update once.
    private void TrimLog(int update)
    {
        string path = Path.Combine(Store.RunDirectory, "train_log.jsonl");
        if (!File.Exists(path))
            return;
        string[] lines = File.ReadAllLines(path);
        string[] kept = [.. lines.Where(line => LoggedUpdate(line) is not int logged || logged <= update)];
        if (kept.Length < lines.Length)
            AtomicFile.WriteText(path, string.Concat(kept.Select(line => line + "\n")));
    }

    private static int? LoggedUpdate(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.TryGetProperty("update", out var value) && value.TryGetInt32(out int update) ? update : null;
        }
        catch (JsonException)
        {
            return null;   // not ours to judge: kept
        }
    }

    public override bool Run(AudioDataset train, AudioDataset? valid, CancellationToken cancellationToken)
    {
        foreach (string skipped in train.Skipped)
            Log($"warning: skipped {skipped}");
        SkippedFiles = train.Skipped.Count;
        Directory.CreateDirectory(Store.RunDirectory);
        using var log = new StreamWriter(Path.Combine(Store.RunDirectory, "train_log.jsonl"), append: true);
        var accumulated = new List<TMetrics>();
        TrainerState boundary = Snapshot();
        var clock = Stopwatch.StartNew();
        long samplesSinceLog = 0;
        bool cancelled = false;
        model.Train(true);
        while (State.Update < _optimization.MaxUpdates && !cancelled)
        {
            IReadOnlyList<BatchPlan> plans = BatchSampler.Plan(train.Entries, _batching, _run.Seed, State.Epoch,
                model.Preprocessor.SamplingRate);
            if (plans.Count == 0)
                throw new InvalidDataException($"no recording is at least {_batching.MinSampleSize} samples long");
            using (var loader = new BatchLoader(train, plans, State.BatchPosition, model.Preprocessor, _run.Seed, State.Epoch,
                _batching.PadToLongest))
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
                    State = State with { BatchPosition = batch.Position + 1 };
                    if (batch.BatchSize == 0)
                        continue;
                    accumulated.Add(task.Step(batch));
                    samplesSinceLog += batch.SampleLengths.Sum(l => (long)l);
                    if (accumulated.Count < _optimization.UpdateFreq)
                        continue;
                    Update(accumulated, log, clock, ref samplesSinceLog);
                    accumulated.Clear();
                    boundary = Snapshot();
                    if (valid != null && _run.ValidateInterval > 0 && State.Update % _run.ValidateInterval == 0
                        && State.Update >= _run.ValidateAfterUpdates)
                        Validate(valid, log);
                    if (_run.SaveInterval > 0 && State.Update % _run.SaveInterval == 0 && State.Update < _optimization.MaxUpdates)
                        SaveCheckpoint();
                    if (State.Update >= _optimization.MaxUpdates)
                        break;
                }
            }
            if (!cancelled && State.Update < _optimization.MaxUpdates)
                State = State with { Epoch = State.Epoch + 1, BatchPosition = 0 };
        }
        model.ZeroGrad();
        // Batches accumulated after the last update are dropped: the saved state resumes right after that update.
        State = boundary with { Update = State.Update, BestScore = State.BestScore };
        model.Backbone.Random.Offset = State.ModelRandomOffset;
        maskRandom.Offset = State.MaskRandomOffset;
        SaveCheckpoint();
        if (!cancelled)
            Store.SaveModel("final", model.SavePretrained);
        Log(cancelled ? $"stopped at update {State.Update}: {Store.Latest()} holds the run's state" : $"finished {State.Update} updates");
        return cancelled;
    }

    private void Update(List<TMetrics> batches, StreamWriter log, Stopwatch clock, ref long samples)
    {
        double gradNorm = GradientClipping.NormalizeAndClip(model.Parameters(), task.SampleSize(batches), _optimization.ClipNorm);
        float lr = _optimization.LearningRateAt(State.Update + 1);
        optimizer.Options.LearningRate = lr;
        optimizer.Update();
        optimizer.ZeroGrad();
        State = State with { Update = State.Update + 1 };
        UpdateCompleted?.Invoke(State.Update);
        if (State.Update % _run.LogInterval != 0 && State.Update != _optimization.MaxUpdates)
            return;
        double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        clock.Restart();
        var entry = new JsonObject { ["split"] = "train", ["update"] = State.Update };
        var line = new List<string> { $"update {State.Update}/{_optimization.MaxUpdates}" };
        task.Describe(batches, entry, line);
        entry["lr"] = (double)(decimal)lr;
        entry["grad_norm"] = Math.Round(gradNorm, 6);
        entry["samples_per_second"] = Math.Round(samples / seconds, 1);
        entry["audio_seconds_per_second"] = Math.Round(samples / (double)model.Preprocessor.SamplingRate / seconds, 3);
        entry["skipped_files"] = SkippedFiles;
        samples = 0;
        Write(log, entry);
        line.Add(string.Create(CultureInfo.InvariantCulture, $"lr {lr:G3} grad_norm {gradNorm:F3}"));
        Log(string.Join(' ', line));
    }

    private void Validate(AudioDataset valid, StreamWriter log)
    {
        IReadOnlyDictionary<string, double> metrics = task.Evaluate(valid);
        var entry = new JsonObject { ["split"] = "valid", ["update"] = State.Update };
        foreach (var (key, value) in metrics)
            entry[key] = value;
        Write(log, entry);
        Log($"valid at update {State.Update}: {task.Describe(metrics)}");
        if (task.Score(metrics) is double current && (State.BestScore == null || current < State.BestScore))
        {
            State = State with { BestScore = current };
            Log($"saved {Store.SaveModel("best", model.SavePretrained)} (best so far)");
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
        Logged(new TrainingLogEntry((string)entry["split"]!, State.Update, metrics));
    }

    private void SaveCheckpoint() => Log($"saved {Store.Save(State.Update, model.SavePretrained, optimizer, Snapshot())}");

    private TrainerState Snapshot() => State with
    {
        ModelRandomOffset = model.Backbone.Random.Offset, MaskRandomOffset = maskRandom.Offset,
    };
}
