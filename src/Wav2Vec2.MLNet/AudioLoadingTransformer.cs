using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>The fitted form of <see cref="AudioLoadingEstimator"/>: file paths to variable-length vectors of 16 kHz mono samples.</summary>
/// <example><code>
/// IDataView audio = mlContext.Transforms.LoadAudio("Audio", "clips", "Path").Fit(data).Transform(data);
/// </code></example>
public sealed class AudioLoadingTransformer : AudioTransformerBase
{
    internal AudioLoadingTransformer(AudioLoadingMapper mapper) : base(mapper)
    {
    }

    /// <summary>The folder relative paths are resolved against, or null.</summary>
    public string? AudioFolder => Mapper.Input.AudioFolder;
}
