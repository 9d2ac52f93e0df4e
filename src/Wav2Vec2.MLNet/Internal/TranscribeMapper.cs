using Microsoft.ML.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>Wav2Vec2Transcribe: CTC logits of each clip, decoded to text.</summary>
internal sealed class TranscribeMapper : ModelMapper
{
    public TranscribeMapper(AudioInputSettings input, Wav2Vec2ForCtc model, TranscribeSettings settings)
        : base(input, model.Backbone, settings.ThreadCount)
    {
        Model = model;
        model.Train(false);
        Tokenizer = model.Tokenizer ?? throw new ArgumentException($"{Name}: the model has no vocabulary (vocab.json) to transcribe with");
        Settings = settings;
        Decoder = settings.Decoding.Create(Tokenizer);
        Outputs = [new OutputColumn(settings.OutputColumnName, TextDataViewType.Instance)];
    }

    public Wav2Vec2ForCtc Model { get; }
    public CtcTokenizer Tokenizer { get; }
    public TranscribeSettings Settings { get; }

    /// <summary>Built once; decoders are thread-safe.</summary>
    public ICtcDecoder Decoder { get; }

    public override string Name => "Wav2Vec2Transcribe";

    public override IReadOnlyList<OutputColumn> Outputs { get; }

    protected override object[][] ComputeWithModel(IReadOnlyList<AudioClip> clips) =>
        Model.Logits(clips, Input.BatchSize, Settings.Chunking, Input.CancellationToken)
            .Select(logits => new object[] { Decoder.Decode(logits.Span, logits.Size(0)) }).ToArray();
}

/// <summary>The transcription transform's own settings (what SaveWav2Vec2 stores beside the weights).</summary>
internal sealed record TranscribeSettings(string OutputColumnName, CtcDecoderSettings Decoding, ChunkingOptions? Chunking, int? ThreadCount);
