using Wav2Vec2.Decoding;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>The fitted form of <see cref="Wav2Vec2TranscribeEstimator"/>: a Text column of transcripts from a CTC model.</summary>
/// <example><code>
/// var asr = mlContext.Transforms.Wav2Vec2Transcribe("Text", "Path", "wav2vec2-base-960h", audioFolder: "clips").Fit(data);
/// IDataView transcripts = asr.Transform(data);
/// </code></example>
public sealed class Wav2Vec2TranscribeTransformer : AudioTransformerBase
{
    internal Wav2Vec2TranscribeTransformer(TranscribeMapper mapper) : base(mapper)
    {
    }

    internal TranscribeMapper Transcriber => (TranscribeMapper)Mapper;

    /// <summary>The CTC model (shared by every cursor).</summary>
    public Wav2Vec2ForCtc Model => Transcriber.Model;

    /// <summary>The decoder.</summary>
    public CtcDecoderSettings Decoding => Transcriber.Settings.Decoding;
}
