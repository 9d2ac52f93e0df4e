namespace Wav2Vec2.Training;

/// <summary>What progress displays (the command line's progress bar, ML.NET's progress channel) need from a trainer.</summary>
/// <example><code>
/// ITrainer trainer = new CtcFineTuner(model, options, "run");
/// trainer.UpdateCompleted = update => Console.Title = $"{update}/{trainer.MaxUpdates}";
/// trainer.Logged = entry => Console.WriteLine($"{entry.Split} {entry.Update}: loss {entry.Metrics["loss"]}");
/// </code></example>
public interface ITrainer
{
    /// <summary>Progress and warnings, one line each (console by default).</summary>
    Action<string> Log { get; set; }

    /// <summary>Called after every update with the number of completed updates.</summary>
    Action<int>? UpdateCompleted { get; set; }

    /// <summary>Called with the figures of each logged update and each validation, as train_log.jsonl records them.</summary>
    Action<TrainingLogEntry>? Logged { get; set; }

    /// <summary>Where the run stands.</summary>
    TrainerState State { get; }

    /// <summary>The update the run stops at.</summary>
    int MaxUpdates { get; }
}

/// <summary>One line of train_log.jsonl: the numeric figures of a logged update or a validation.</summary>
/// <param name="Split">"train" or "valid".</param>
/// <param name="Update">Completed updates.</param>
/// <param name="Metrics">The figures by their train_log.jsonl names ("loss", "lr", "grad_norm", "accuracy", "wer", ...).</param>
/// <example><code>
/// trainer.Logged = entry => { if (entry.Split == "valid") Console.WriteLine(entry.Metrics["accuracy"]); };
/// </code></example>
public sealed record TrainingLogEntry(string Split, int Update, IReadOnlyDictionary<string, double> Metrics);
