using Wav2Vec2.Decoding;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>The fitted form of <see cref="Wav2Vec2AlignEstimator"/>: each row's words with their start and end in seconds.</summary>
/// <example><code>
/// IDataView aligned = mlContext.Transforms.Wav2Vec2Align("Words", "Path", "Transcript", "model").Fit(data).Transform(data);
/// </code></example>
public sealed class Wav2Vec2AlignTransformer : AudioTransformerBase
{
    internal Wav2Vec2AlignTransformer(AlignMapper mapper) : base(mapper)
    {
    }

    internal AlignMapper Aligner => (AlignMapper)Mapper;

    /// <summary>The CTC model (shared by every cursor).</summary>
    public Wav2Vec2ForCtc Model => Aligner.Model;

    /// <summary>Unknown characters and long recordings.</summary>
    public AlignmentOptions Alignment => Aligner.Settings.Alignment;
}
