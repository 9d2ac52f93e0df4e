namespace Wav2Vec2.MLNet;

/// <summary>How <see cref="Wav2Vec2TransformsCatalog.Wav2Vec2Features(Microsoft.ML.TransformsCatalog, Wav2Vec2FeaturesOptions)"/>
/// turns a clip's frames (frames x hidden_size) into a column value.</summary>
/// <example><code>
/// mlContext.Transforms.Wav2Vec2Features("Features", "Audio", "model", layer: 6, pooling: Wav2Vec2Pooling.MeanAndStd);
/// </code></example>
public enum Wav2Vec2Pooling
{
    /// <summary>Mean over frames: a known-size vector of hidden_size values.</summary>
    Mean,

    /// <summary>Mean, then standard deviation (population) over frames: 2 x hidden_size values.</summary>
    MeanAndStd,

    /// <summary>Maximum over frames: hidden_size values.</summary>
    Max,

    /// <summary>
    /// No pooling: every frame, frame after frame (a variable-size vector of frames x hidden_size values), with the
    /// frame count in a second column (<see cref="Wav2Vec2FeaturesOptions.FrameCountColumnName"/>).
    /// </summary>
    None,
}
