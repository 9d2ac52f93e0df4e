using Microsoft.ML.Runtime;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Estimator of <see cref="Wav2Vec2AlignTransformer"/>. Create it with
/// <see cref="Wav2Vec2TransformsCatalog.Wav2Vec2Align(Microsoft.ML.TransformsCatalog, string, string, string, string, string?)"/>.
/// </summary>
/// <example><code>
/// var align = mlContext.Transforms.Wav2Vec2Align("Words", "Path", "Transcript", "wav2vec2-base-960h", audioFolder: "clips");
/// </code></example>
public sealed class Wav2Vec2AlignEstimator : AudioEstimatorBase<Wav2Vec2AlignTransformer>
{
    internal Wav2Vec2AlignEstimator(IHostEnvironment? environment, Wav2Vec2AlignOptions options)
        : base(Create(environment, options), mapper => new Wav2Vec2AlignTransformer((AlignMapper)mapper))
    {
    }

    private static Func<AudioMapper> Create(IHostEnvironment? environment, Wav2Vec2AlignOptions options)
    {
        options.Validate();
        AudioInputSettings input = options.InputSettings(environment);
        var settings = new AlignSettings(options.TranscriptColumnName,
            new WordTimeColumns(options.OutputColumnName, options.WordStartsColumnName, options.WordEndsColumnName), options.Alignment,
            options.Chunking, options.ThreadCount);
        Wav2Vec2ForCtc? model = options.Model;
        string? directory = options.ModelDirectory;
        return () => new AlignMapper(input, model ?? ModelLoading.Ctc(environment, directory!, options.Language), settings);
    }
}
