using Microsoft.ML.Runtime;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Estimator of <see cref="Wav2Vec2TranscribeTransformer"/>. Create it with
/// <see cref="Wav2Vec2TransformsCatalog.Wav2Vec2Transcribe(Microsoft.ML.TransformsCatalog, string, string, string, string?)"/>.
/// </summary>
/// <example><code>
/// var asr = mlContext.Transforms.Wav2Vec2Transcribe("Text", "Path", "wav2vec2-base-960h", audioFolder: "clips");
/// </code></example>
public sealed class Wav2Vec2TranscribeEstimator : AudioEstimatorBase<Wav2Vec2TranscribeTransformer>
{
    internal Wav2Vec2TranscribeEstimator(IHostEnvironment? environment, Wav2Vec2TranscribeOptions options)
        : base(Create(environment, options), mapper => new Wav2Vec2TranscribeTransformer((TranscribeMapper)mapper))
    {
    }

    private static Func<AudioMapper> Create(IHostEnvironment? environment, Wav2Vec2TranscribeOptions options)
    {
        options.Validate();
        AudioInputSettings input = options.InputSettings(environment);
        var settings = new TranscribeSettings(options.OutputColumnName, options.Decoding, options.Chunking, options.ThreadCount,
            options.WordTimeColumns());
        Wav2Vec2ForCtc? model = options.Model;
        string? directory = options.ModelDirectory;
        return () => new TranscribeMapper(input, model ?? ModelLoading.Ctc(environment, directory!, options.Language), settings);
    }
}
