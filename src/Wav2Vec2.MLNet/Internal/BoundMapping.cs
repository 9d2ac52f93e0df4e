using Microsoft.ML;
using Microsoft.ML.Data;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>
/// An <see cref="AudioMapper"/> checked against an input schema: the input column, the output schema (input columns
/// first, unchanged, then the new columns, which hide input columns of the same name) and typed getters.
/// </summary>
internal sealed class BoundMapping
{
    public BoundMapping(AudioMapper mapper, DataViewSchema inputSchema)
    {
        Mapper = mapper;
        InputSchema = inputSchema;
        IsPath = SchemaErrors.CheckAudio(mapper.Name, inputSchema, mapper.Input.InputColumnName, mapper.AcceptsSamples,
            out DataViewSchema.Column column);
        InputColumn = column;
        if (mapper.TextColumnName != null)
            TextColumn = SchemaErrors.Check(mapper.Name, inputSchema, mapper.TextColumnName, "Text", type => type is TextDataViewType);
        if (!IsPath)
            SourcePathColumn = SourcePathOf(inputSchema, column);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (OutputColumn output in mapper.Outputs)
            builder.AddColumn(output.Name, output.Type, output.Annotations);
        OutputSchema = builder.ToSchema();
    }

    public AudioMapper Mapper { get; }
    public DataViewSchema InputSchema { get; }
    public DataViewSchema OutputSchema { get; }
    public DataViewSchema.Column InputColumn { get; }

    /// <summary>The Text column read beside the audio, if the mapper reads one.</summary>
    public DataViewSchema.Column? TextColumn { get; }

    /// <summary>For samples that LoadAudio read, the path column it read them from (named in a bad row's message).</summary>
    public DataViewSchema.Column? SourcePathColumn { get; }

    /// <summary>The input columns a row's values come from: the audio and, if any, the text and the samples' file path.</summary>
    public DataViewSchema.Column[] SourceColumns =>
        [InputColumn, .. new[] { TextColumn, SourcePathColumn }.OfType<DataViewSchema.Column>()];

    // LoadAudio marks its output with the path column it read (AudioLoadingMapper.SourcePathAnnotation).
    private static DataViewSchema.Column? SourcePathOf(DataViewSchema schema, DataViewSchema.Column samples)
    {
        if (samples.Annotations.Schema.GetColumnOrNull(AudioLoadingMapper.SourcePathAnnotation) is not DataViewSchema.Column annotation)
            return null;
        ReadOnlyMemory<char> name = default;
        samples.Annotations.GetValue(annotation.Name, ref name);
        return schema.GetColumnOrNull(name.ToString()) is DataViewSchema.Column path && path.Type is TextDataViewType ? path : null;
    }

    /// <summary>True when the input column holds file paths (false: 16 kHz samples).</summary>
    public bool IsPath { get; }

    /// <summary>The output index of a column of <see cref="OutputSchema"/>, or -1 for a passed-through input column.</summary>
    public int OutputIndex(DataViewSchema.Column column) =>
        column.Index >= InputSchema.Count ? column.Index - InputSchema.Count : -1;

    /// <summary>Input columns the active columns need (the audio column when an output is active or rows are checked).</summary>
    public List<DataViewSchema.Column> Dependencies(IEnumerable<DataViewSchema.Column> active, bool readAudio)
    {
        var needed = new List<DataViewSchema.Column>();
        foreach (DataViewSchema.Column column in active)
        {
            if (OutputIndex(column) >= 0)
                readAudio = true;
            else
                needed.Add(InputSchema[column.Index]);
        }
        if (readAudio)
            foreach (DataViewSchema.Column source in SourceColumns)
                if (!needed.Any(c => c.Index == source.Index))
                    needed.Add(source);
        return needed;
    }

    /// <summary>Whether <paramref name="column"/> of the output schema is active in a row over <paramref name="input"/>.</summary>
    public bool IsActive(DataViewSchema.Column column, bool[] activeOutputs, DataViewRow input) =>
        OutputIndex(column) is int output and >= 0 ? activeOutputs[output] : input.IsColumnActive(input.Schema[column.Index]);

    /// <summary>A getter of <paramref name="column"/> of the output schema: passed through, or read from the row's values.</summary>
    public ValueGetter<T> Getter<T>(DataViewSchema.Column column, bool[] activeOutputs, DataViewRow input, RowValues values)
    {
        int output = OutputIndex(column);
        if (output < 0)
            return input.GetGetter<T>(input.Schema[column.Index]);
        if (!activeOutputs[output])
            throw new InvalidOperationException($"{Mapper.Name}: column '{column.Name}' was not requested as active");
        return MakeGetter<T>(output, () => values.Values(input.Position));
    }

    /// <summary>A getter of output <paramref name="output"/> reading from the current row's values.</summary>
    private ValueGetter<T> MakeGetter<T>(int output, Func<object[]> values)
    {
        DataViewType type = Mapper.Outputs[output].Type;
        Delegate getter = type switch
        {
            VectorDataViewType { ItemType: TextDataViewType } => (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> dst) =>
            {
                var source = (string[])values()[output];
                var editor = VBufferEditor.Create(ref dst, source.Length);
                for (int i = 0; i < source.Length; i++)
                    editor.Values[i] = source[i].AsMemory();
                dst = editor.Commit();
            }),
            VectorDataViewType => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
            {
                var source = (float[])values()[output];
                var editor = VBufferEditor.Create(ref dst, source.Length);
                source.CopyTo(editor.Values);
                dst = editor.Commit();
            }),
            TextDataViewType => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> dst) =>
                dst = ((string)values()[output]).AsMemory()),
            KeyDataViewType => (ValueGetter<uint>)((ref uint dst) => dst = (uint)values()[output]),
            _ => (ValueGetter<int>)((ref int dst) => dst = (int)values()[output]),
        };
        return getter as ValueGetter<T> ?? throw new InvalidOperationException(
            $"{Mapper.Name}: column '{Mapper.Outputs[output].Name}' is {type}; it cannot be read as {typeof(T).Name}");
    }
}
