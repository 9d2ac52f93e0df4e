using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Wav2Vec2.Audio;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>One column a transform adds: its name, type and annotations (slot names).</summary>
internal sealed record OutputColumn(string Name, DataViewType Type, DataViewSchema.Annotations? Annotations = null);

/// <summary>Annotations of output columns.</summary>
internal static class ColumnAnnotations
{
    /// <summary>A vector-of-Text annotation such as "SlotNames" or "KeyValues" (ML.NET's kind constants are internal).</summary>
    public static DataViewSchema.Annotations Text(string kind, IReadOnlyList<string> values)
    {
        ReadOnlyMemory<char>[] names = values.Select(v => v.AsMemory()).ToArray();
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(kind, new VectorDataViewType(TextDataViewType.Instance, names.Length), (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> dst) =>
        {
            var editor = VBufferEditor.Create(ref dst, names.Length);
            names.CopyTo(editor.Values);
            dst = editor.Commit();
        }));
        return builder.ToAnnotations();
    }
}

/// <summary>The settings every audio transform shares: where the audio comes from and what to do with bad rows.</summary>
internal sealed record AudioInputSettings(string InputColumnName, string? AudioFolder, BadAudioHandling BadAudio,
    int BatchSize, IHostEnvironment? Environment, CancellationToken CancellationToken)
{
    /// <summary>The arithmetic of the model (<see cref="Wav2Vec2TransformOptions.Precision"/>).</summary>
    public Nn.Precision? Precision { get; init; }

    /// <summary>The full path of a row's (relative) path, as LoadImages resolves it.</summary>
    public string Resolve(string path) => AudioFolder == null ? path : Path.Combine(AudioFolder, path);
}

/// <summary>
/// What a transform computes from one audio column: it names its output columns, checks and prepares each row's clip,
/// and computes the output values of several rows at once (one forward pass per batch for the model transforms). The
/// data view, cursor and row mapper machinery around it is shared (<see cref="MappedDataView"/>).
/// </summary>
internal abstract class AudioMapper(AudioInputSettings input)
{
    public AudioInputSettings Input { get; } = input;

    /// <summary>The transform's name in messages ("Wav2Vec2Features").</summary>
    public abstract string Name { get; }

    /// <summary>Whether the input may be a vector of 16 kHz samples besides a text column of paths.</summary>
    public abstract bool AcceptsSamples { get; }

    /// <summary>A Text column read beside the audio (a transcript to align), or null.</summary>
    public virtual string? TextColumnName => null;

    /// <summary>Why a row's text cannot go with its prepared clip (an error text naming no row), or null.</summary>
    public virtual string? CheckText(AudioClip clip, string text) => null;

    public abstract IReadOnlyList<OutputColumn> Outputs { get; }

    /// <summary>The clip this transform works on (resampled), or an error text (too short) naming no row.</summary>
    public abstract AudioClip Prepare(AudioClip clip, out string? error);

    /// <summary>Output values of several rows' prepared clips (and texts): [row][output] (float[] or string[] for
    /// vectors, int, uint, string).</summary>
    public abstract object[][] Compute(IReadOnlyList<AudioItem> items);

    /// <summary>Checks the input column (missing or of the wrong type fails here, not in a cursor) and binds it.</summary>
    public BoundMapping Bind(DataViewSchema inputSchema) => new(this, inputSchema);

    /// <summary>The output schema shape for an estimator, after the same input checks.</summary>
    public SchemaShape OutputShape(SchemaShape inputShape)
    {
        SchemaErrors.CheckAudio(Name, inputShape, Input.InputColumnName, AcceptsSamples);
        if (TextColumnName != null)
            SchemaErrors.Check(Name, inputShape, TextColumnName, "Text", type => type is TextDataViewType);
        return SchemaErrors.WithColumns(inputShape, Outputs);
    }
}
