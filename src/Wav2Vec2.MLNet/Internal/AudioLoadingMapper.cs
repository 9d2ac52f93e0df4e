using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.Audio;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>LoadAudio: an audio file path to 16 kHz mono samples (read, mixed down and resampled by the core's AudioFile).</summary>
internal sealed class AudioLoadingMapper(AudioInputSettings input, string outputColumnName) : AudioMapper(input)
{
    /// <summary>The rate of the samples LoadAudio produces, the rate of every wav2vec 2.0 model.</summary>
    public const int SampleRate = 16000;

    public string OutputColumnName { get; } = outputColumnName;

    public override string Name => "LoadAudio";

    public override bool AcceptsSamples => false;

    /// <summary>
    /// The annotation on LoadAudio's output column naming the path column it read, so that a transform reading the
    /// samples can name the file of a bad row, not only the row.
    /// </summary>
    public const string SourcePathAnnotation = "AudioSourcePathColumn";

    public override IReadOnlyList<OutputColumn> Outputs { get; } =
        [new OutputColumn(outputColumnName, new VectorDataViewType(NumberDataViewType.Single), SourcePath(input.InputColumnName))];

    private static DataViewSchema.Annotations SourcePath(string column)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(SourcePathAnnotation, TextDataViewType.Instance, (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = column.AsMemory()));
        return builder.ToAnnotations();
    }

    public override AudioClip Prepare(AudioClip clip, out string? error)
    {
        error = null;
        return clip.ResampleTo(SampleRate);
    }

    public override object[][] Compute(IReadOnlyList<AudioItem> items) => items.Select(i => new object[] { i.Require().Samples }).ToArray();
}
