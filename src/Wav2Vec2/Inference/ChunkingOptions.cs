namespace Wav2Vec2.Inference;

/// <summary>How long recordings are split (Hugging Face's chunk_length_s / stride_length_s, in seconds).</summary>
public sealed record ChunkingOptions
{
    /// <summary>Longest window the model sees at once; shorter recordings run in one pass. 0 disables chunking.</summary>
    public double ChunkSeconds { get; init; } = 30;

    /// <summary>Context on each side of a chunk whose frames are computed but discarded.</summary>
    public double ContextSeconds { get; init; } = 5;
}
