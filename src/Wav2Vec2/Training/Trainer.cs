using Wav2Vec2.Data;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Training;

/// <summary>One line of train_log.jsonl: the numeric figures of a logged update or a validation; and what
/// <see cref="Trainer.Evaluate"/> returns, named the same way.</summary>
/// <param name="Split">"train", "valid", or "eval" (<see cref="Trainer.Evaluate"/>).</param>
/// <param name="Update">Completed updates.</param>
/// <param name="Metrics">The figures by their train_log.jsonl names ("loss", "lr", "grad_norm", "accuracy", "wer", ...).</param>
/// <example><code>
/// trainer.Logged = entry => { if (entry.Split == "valid") Console.WriteLine(entry.Metrics["accuracy"]); };
/// </code></example>
public sealed record TrainingLogEntry(string Split, int Update, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// What the trainers share (<see cref="PreTrainer"/>, <see cref="CtcFineTuner"/>, <see cref="SequenceClassificationTrainer"/>):
/// the run directory with its resumable checkpoints, training on datasets with cancellation, evaluation, and what
/// progress displays (the command line's progress bar, ML.NET's progress channel) need: the log, the updates, the
/// logged figures and where the run stands.
/// </summary>
/// <example><code>
/// Trainer trainer = CtcFineTuner.Prepare("pretrained", train, CtcFineTuningOptions.Presets["tiny"], "run");
/// trainer.UpdateCompleted = update => Console.Title = $"{update}/{trainer.MaxUpdates}";
/// trainer.Logged = entry => Console.WriteLine($"{entry.Split} {entry.Update}: loss {entry.Metrics["loss"]}");
/// trainer.Train(train, dev);
/// </code></example>
public abstract class Trainer
{
    private protected Trainer()
    {
    }

    /// <summary>The shared loop; set by the task's constructor through <see cref="Start{TMetrics}"/>.</summary>
    private protected TrainingLoop Loop { get; private set; } = null!;

    /// <summary>The data-side random stream (masks, distractors), seeded beside the model's (dropout, layer drop, Gumbel noise).</summary>
    private protected RandomSource MaskRandom { get; private set; } = null!;

    /// <summary>
    /// Seeds the model's and the data's random streams and builds the loop that trains <paramref name="model"/>: the
    /// optimizer updates <paramref name="trainable"/> (default: all of the model's parameters).
    /// </summary>
    private protected void Start<TMetrics>(Wav2Vec2TaskModel model, ITrainingTask<TMetrics> task, TrainingOptions options, string runDirectory,
        IReadOnlyList<Parameter>? trainable = null)
    {
        model.Backbone.Random = new RandomSource(options.Run.Seed);
        MaskRandom = new RandomSource(options.Run.Seed + 0x9E3779B9UL);
        var optimizer = new AdamW(trainable ?? model.Parameters(), options.Optimization.Optimizer with { LearningRate = options.Optimization.LearningRate });
        Loop = new TrainingLoop<TMetrics>(model, MaskRandom, task, optimizer, options, runDirectory);
    }

    /// <summary>The end of a run setup: the trainer logs through <paramref name="log"/> and resumes when asked.</summary>
    private protected static T Resumed<T>(T trainer, bool resume, Action<string> log) where T : Trainer
    {
        trainer.Log = log;
        if (resume && !trainer.TryResume())
            log($"no checkpoint in {trainer.RunDirectory} yet: starting from update 0");
        return trainer;
    }

    /// <summary>The line a run setup reports after building a fine-tuning model from <paramref name="directory"/>.</summary>
    private protected static string Initialised(string directory, LoadReport report, string head) =>
        $"initialised from {directory}: {report.Ignored.Count} head tensor(s) ignored, {report.Missing.Count} new ({head})";

    /// <summary>Progress and warnings, one line each (console by default).</summary>
    public Action<string> Log { get => Loop.Log; set => Loop.Log = value; }

    /// <summary>Called after every update with the number of completed updates.</summary>
    public Action<int>? UpdateCompleted { get => Loop.UpdateCompleted; set => Loop.UpdateCompleted = value; }

    /// <summary>Called with the figures of each logged update and each validation, as train_log.jsonl records them.</summary>
    public Action<TrainingLogEntry>? Logged { get => Loop.Logged; set => Loop.Logged = value; }

    /// <summary>Completed updates: where the run stands.</summary>
    public int Update => Loop.State.Update;

    /// <summary>Where the run stands, as checkpoints save it.</summary>
    internal TrainerState State => Loop.State;

    /// <summary>The update the run stops at.</summary>
    public int MaxUpdates => Loop.MaxUpdates;

    /// <summary>The run directory: train_log.jsonl, checkpoint-N/, best/ (with validation data) and final/.</summary>
    public string RunDirectory => Loop.RunDirectory;

    /// <summary>Recordings that could not be decoded so far (also counted as "skipped_files" in train_log.jsonl).</summary>
    public int SkippedFiles => Loop.SkippedFiles;

    /// <summary>Training recordings left out because they cannot fit the task (too short for their labels or for one frame).</summary>
    public int SkippedUtterances { get; private protected set; }

    /// <summary>Restores the newest complete checkpoint-N of the run directory (model, optimizer, data position, random
    /// streams): training then continues exactly. False when there is none.</summary>
    /// <example><code>
    /// if (!trainer.TryResume()) Console.WriteLine("starting from update 0");
    /// </code></example>
    public bool TryResume() => Loop.TryResume();

    /// <summary>
    /// Trains until the recipe's last update or cancellation (the last completed update is then saved as a checkpoint);
    /// the final model goes to final/, and with <paramref name="valid"/> the best one by validation to best/.
    /// </summary>
    /// <exception cref="InvalidDataException">A training entry lacks what the task needs (the file is named), or no
    /// training recording is usable.</exception>
    public abstract void Train(AudioDataset train, AudioDataset? valid = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The model's figures on a labeled dataset, one recording at a time, in evaluation mode, named as validation logs
    /// them: "loss" and "utterances" always, then the task's ("wer", "cer", "substitutions", ... for CTC; "accuracy"
    /// for classification; "accuracy", "code_perplexity", ... for pre-training).
    /// </summary>
    /// <example><code>
    /// TrainingLogEntry test = tuner.Evaluate(AudioDataset.OpenTranscribed("test"));
    /// Console.WriteLine($"WER {test.Metrics["wer"]:P2} after {test.Update} updates");
    /// </code></example>
    public TrainingLogEntry Evaluate(AudioDataset data) => new("eval", Update, EvaluateMetrics(data));

    /// <summary>The figures of <see cref="Evaluate"/>.</summary>
    private protected abstract IReadOnlyDictionary<string, double> EvaluateMetrics(AudioDataset data);
}
