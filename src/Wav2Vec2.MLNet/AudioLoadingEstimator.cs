using Microsoft.ML.Runtime;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Estimator of <see cref="AudioLoadingTransformer"/>. Create it with
/// <see cref="Wav2Vec2TransformsCatalog.LoadAudio(Microsoft.ML.TransformsCatalog, string, string?, string?, BadAudioHandling)"/>.
/// </summary>
/// <example><code>
/// var load = mlContext.Transforms.LoadAudio(outputColumnName: "Audio", audioFolder: "clips", inputColumnName: "Path");
/// </code></example>
public sealed class AudioLoadingEstimator : AudioEstimatorBase<AudioLoadingTransformer>
{
    internal AudioLoadingEstimator(IHostEnvironment? environment, string outputColumnName, string? audioFolder,
        string inputColumnName, BadAudioHandling badAudio)
        : base(Create(environment, outputColumnName, audioFolder, inputColumnName, badAudio),
            mapper => new AudioLoadingTransformer((AudioLoadingMapper)mapper))
    {
    }

    private static Func<AudioMapper> Create(IHostEnvironment? environment, string outputColumnName, string? audioFolder,
        string inputColumnName, BadAudioHandling badAudio)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        if (!string.IsNullOrEmpty(audioFolder) && !Directory.Exists(audioFolder))
            throw new DirectoryNotFoundException($"audio folder '{audioFolder}' does not exist");
        var input = new AudioInputSettings(inputColumnName, FullFolder(audioFolder), badAudio, 1, environment, default);
        var mapper = new AudioLoadingMapper(input, outputColumnName);
        return () => mapper;
    }
}
