namespace Wav2Vec2.Training;

/// <summary>
/// How a training run is driven and recorded (fairseq's common:, checkpoint: and dataset: validation settings): the
/// seed, logging, validation schedule and checkpoints.
/// </summary>
/// <example><code>
/// var options = CtcFineTuningOptions.Presets["tiny"] with { Run = CtcFineTuningOptions.Presets["tiny"].Run with { SaveInterval = 100 } };
/// </code></example>
public sealed record RunOptions
{
    /// <summary>Seed of data order, crops, masks, dropout, new weights and sampling noise.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Write a log line (train_log.jsonl, console, progress) every this many updates.</summary>
    public int LogInterval { get; init; } = 1;

    /// <summary>Save a checkpoint-N every this many updates (0: only at the end).</summary>
    public int SaveInterval { get; init; }

    /// <summary>Checkpoints kept, the newest (0: all); best/ and final/ are kept apart.</summary>
    public int KeepLastCheckpoints { get; init; }

    /// <summary>Validate every this many updates when a validation set is given (0: never).</summary>
    public int ValidateInterval { get; init; } = 1000;

    /// <summary>No validation before this update.</summary>
    public int ValidateAfterUpdates { get; init; }
}
