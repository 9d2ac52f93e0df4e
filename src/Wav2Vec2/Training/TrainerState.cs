namespace Wav2Vec2.Training;

/// <summary>Where a run stands: enough to resume it exactly.</summary>
internal sealed record TrainerState
{
    /// <summary>Completed updates.</summary>
    public int Update { get; init; }
    /// <summary>Current epoch (1-based).</summary>
    public int Epoch { get; init; } = 1;
    /// <summary>Next batch of the epoch's plan.</summary>
    public int BatchPosition { get; init; }
    /// <summary>Offset of the model's random stream (dropout, layer drop, Gumbel noise).</summary>
    public ulong ModelRandomOffset { get; init; }
    /// <summary>Offset of the masking / distractor random stream.</summary>
    public ulong MaskRandomOffset { get; init; }
    /// <summary>Best validation score so far (lower is better, e.g. WER), or null before the first validation.</summary>
    public double? BestScore { get; init; }
}
