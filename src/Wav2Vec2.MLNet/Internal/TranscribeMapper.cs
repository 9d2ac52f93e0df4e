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
        : base(input, model, model.Backbone, settings.ThreadCount)
    {
        Model = model;
        model.Train(false);
        Tokenizer = model.Tokenizer ?? throw new ArgumentException($"{Name}: the model has no vocabulary (vocab.json) to transcribe with");
        Settings = settings;
        Decoder = settings.Decoding.Create(Tokenizer);
        Outputs = [new OutputColumn(settings.OutputColumnName, TextDataViewType.Instance), .. WordTimeColumns.Outputs(settings.WordTimes)];
    }

    public Wav2Vec2ForCtc Model { get; }
    public CtcTokenizer Tokenizer { get; }
    public TranscribeSettings Settings { get; }

    /// <summary>Built once; decoders are thread-safe.</summary>
    public ICtcDecoder Decoder { get; }

    public override string Name => "Wav2Vec2Transcribe";

    public override IReadOnlyList<OutputColumn> Outputs { get; }

    protected override object[][] ComputeWithModel(IReadOnlyList<AudioItem> items) =>
        Model.Logits(Clips(items), Input.BatchSize, Settings.Chunking, Input.CancellationToken).Select(logits =>
        {
            if (Settings.WordTimes == null)
                return new object[] { Decoder.Decode(logits.Span, logits.Size(0)) };
            TimedTranscript timed = Decoder.DecodeWithTimestamps(logits.Span, logits.Size(0), Model.Backbone.SecondsPerFrame);
            return [timed.Text, .. WordTimeColumns.Values(timed)];
        }).ToArray();
}

/// <summary>The names of the word, start and end columns a transcription or alignment transform adds.</summary>
internal sealed record WordTimeColumns(string Words, string WordStarts, string WordEnds)
{
    /// <summary>Words (vector of Text), and their starts and ends in seconds (vectors of Single), all of variable size.</summary>
    public static IEnumerable<OutputColumn> Outputs(WordTimeColumns? columns) => columns == null ? [] :
    [
        new OutputColumn(columns.Words, new VectorDataViewType(TextDataViewType.Instance)),
        new OutputColumn(columns.WordStarts, new VectorDataViewType(NumberDataViewType.Single)),
        new OutputColumn(columns.WordEnds, new VectorDataViewType(NumberDataViewType.Single)),
    ];

    /// <summary>The three columns' values of a timed transcript.</summary>
    public static object[] Values(TimedTranscript timed) =>
    [
        timed.Words.Select(w => w.Word).ToArray(), timed.Words.Select(w => (float)w.Start).ToArray(), timed.Words.Select(w => (float)w.End).ToArray(),
    ];
}

/// <summary>The transcription transform's own settings (what SaveWav2Vec2 stores beside the weights).</summary>
internal sealed record TranscribeSettings(string OutputColumnName, CtcDecoderSettings Decoding, ChunkingOptions? Chunking, int? ThreadCount,
    WordTimeColumns? WordTimes = null);
