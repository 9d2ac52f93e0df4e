using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>Wav2Vec2Align: each row's transcript force-aligned to its audio, words with their start and end in seconds.</summary>
internal sealed class AlignMapper : ModelMapper
{
    private readonly CtcAligner _aligner;

    public AlignMapper(AudioInputSettings input, Wav2Vec2ForCtc model, AlignSettings settings)
        : base(input, model, model.Backbone, settings.ThreadCount)
    {
        Model = model;
        model.Train(false);
        if (model.Tokenizer == null)
            throw new ArgumentException($"{Name}: the model has no vocabulary (vocab.json) to align with");
        _aligner = new CtcAligner(model, settings.Alignment);
        Settings = settings;
        Outputs = [.. WordTimeColumns.Outputs(settings.Columns)];
    }

    public Wav2Vec2ForCtc Model { get; }
    public AlignSettings Settings { get; }

    public override string Name => "Wav2Vec2Align";

    public override string? TextColumnName => Settings.TranscriptColumnName;

    public override IReadOnlyList<OutputColumn> Outputs { get; }

    // A transcript that cannot be aligned is the row's error (named with the row and file, skipped with BadAudio Skip).
    public override string? CheckText(AudioClip clip, string text) =>
        _aligner.CanAlign(text, Model.Backbone.FrameCount(clip.Samples.Length), out string? problem) ? null : problem;

    protected override object[][] ComputeWithModel(IReadOnlyList<AudioItem> items) =>
        Model.Logits(Clips(items), Input.BatchSize, Settings.Chunking, Input.CancellationToken)
            .Select((logits, i) => WordTimeColumns.Values(_aligner.Align(logits.Span, logits.Size(0), items[i].Text!))).ToArray();
}

/// <summary>The alignment transform's own settings (what SaveWav2Vec2 stores beside the weights).</summary>
internal sealed record AlignSettings(string TranscriptColumnName, WordTimeColumns Columns, AlignmentOptions Alignment, ChunkingOptions? Chunking,
    int? ThreadCount);
