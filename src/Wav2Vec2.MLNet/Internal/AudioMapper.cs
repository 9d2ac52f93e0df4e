using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Wav2Vec2.Audio;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>One column a transform adds: its name, type and annotations (slot names).</summary>
internal sealed record OutputColumn(string Name, DataViewType Type, DataViewSchema.Annotations? Annotations = null);

/// <summary>The settings every audio transform shares: where the audio comes from and what to do with bad rows.</summary>
internal sealed record AudioInputSettings(string InputColumnName, string? AudioFolder, BadAudioHandling BadAudio,
    int BatchSize, IHostEnvironment? Environment, CancellationToken CancellationToken)
{
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

    public abstract IReadOnlyList<OutputColumn> Outputs { get; }

    /// <summary>The clip this transform works on (resampled), or an error text (too short) naming no row.</summary>
    public abstract AudioClip Prepare(AudioClip clip, out string? error);

    /// <summary>Output values of several prepared clips: [row][output] (float[] for vectors, int, string).</summary>
    public abstract object[][] Compute(IReadOnlyList<AudioClip> clips);

    /// <summary>Checks the input column (missing or of the wrong type fails here, not in a cursor) and binds it.</summary>
    public BoundMapping Bind(DataViewSchema inputSchema) => new(this, inputSchema);

    /// <summary>The output schema shape for an estimator, after the same input checks.</summary>
    public SchemaShape OutputShape(SchemaShape inputShape)
    {
        SchemaShape.Column? column = inputShape.FirstOrDefault(c => c.Name == Input.InputColumnName);
        if (column?.Name == null)
            throw SchemaErrors.MissingColumn(Name, Input.InputColumnName);
        bool text = column.Value.Kind == SchemaShape.Column.VectorKind.Scalar && column.Value.ItemType is TextDataViewType;
        bool samples = column.Value.Kind != SchemaShape.Column.VectorKind.Scalar && column.Value.ItemType == NumberDataViewType.Single;
        if (!text && !(samples && AcceptsSamples))
            throw SchemaErrors.WrongType(Name, Input.InputColumnName, AcceptsSamples, column.Value.ItemType.ToString()
                + (column.Value.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector"));
        var columns = inputShape.ToDictionary(c => c.Name);
        foreach (OutputColumn output in Outputs)
            columns[output.Name] = MLNetInterop.ShapeColumn(output.Name, output.Type,
                output.Annotations?.Schema.Count > 0 ? MLNetInterop.SlotNamesShape() : null);
        return new SchemaShape(columns.Values);
    }
}

/// <summary>Schema errors with ML.NET's wording, raised at GetOutputSchema/Fit time.</summary>
internal static class SchemaErrors
{
    public static ArgumentOutOfRangeException MissingColumn(string transform, string column) =>
        new("inputSchema", $"{transform}: could not find input column '{column}'");

    public static ArgumentOutOfRangeException WrongType(string transform, string column, bool acceptsSamples, string actual) =>
        new("inputSchema", $"{transform}: schema mismatch for input column '{column}': expected " +
            (acceptsSamples ? "Text (an audio file path) or a vector of Single (16 kHz mono samples)" : "Text (an audio file path)") +
            $", got {actual}");
}
