using Microsoft.ML.Runtime;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Estimator of <see cref="Wav2Vec2FeaturesTransformer"/>. Create it with
/// <see cref="Wav2Vec2TransformsCatalog.Wav2Vec2Features(Microsoft.ML.TransformsCatalog, string, string, string, int, Wav2Vec2Pooling, string?)"/>.
/// </summary>
/// <example><code>
/// var pipeline = mlContext.Transforms.LoadAudio("Audio", "clips", "Path")
///     .Append(mlContext.Transforms.Wav2Vec2Features("Features", "Audio", "wav2vec2-base", layer: 6));
/// </code></example>
public sealed class Wav2Vec2FeaturesEstimator : AudioEstimatorBase<Wav2Vec2FeaturesTransformer>
{
    internal Wav2Vec2FeaturesEstimator(IHostEnvironment? environment, Wav2Vec2FeaturesOptions options)
        : base(Create(environment, options), mapper => new Wav2Vec2FeaturesTransformer((FeaturesMapper)mapper))
    {
    }

    private static Func<AudioMapper> Create(IHostEnvironment? environment, Wav2Vec2FeaturesOptions options)
    {
        options.Validate();
        AudioInputSettings input = options.InputSettings(environment);
        var settings = new FeaturesSettings(options.OutputColumnName, [.. options.Layers], options.AverageLayers,
            options.Pooling, options.FrameCountColumnName, options.Chunking, options.ThreadCount);
        Wav2Vec2Model? model = options.Model;
        string? directory = options.ModelDirectory;
        return () => new FeaturesMapper(input, model ?? ModelLoading.Backbone(environment, directory!), settings);
    }
}
