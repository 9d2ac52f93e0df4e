namespace Wav2Vec2.MLNet;

/// <summary>What the audio transforms do with a row whose audio cannot be used (unreadable or corrupt file, empty path,
/// too short for the model).</summary>
/// <example><code>
/// mlContext.Transforms.LoadAudio("Audio", "clips", "Path", BadAudioHandling.Skip);   // counted in mlContext.Log
/// </code></example>
public enum BadAudioHandling
{
    /// <summary>Reading the row fails with an <see cref="InvalidDataException"/> naming the transform, the row and the file.</summary>
    Fail,

    /// <summary>
    /// The row is left out of the transformed data (so that row counts are unknown until read), each skipped row is
    /// logged as a warning through mlContext.Log and every cursor logs how many it skipped. A single-row mapping
    /// (PredictionEngine) cannot leave a row out and fails as <see cref="Fail"/> does.
    /// </summary>
    Skip,
}
