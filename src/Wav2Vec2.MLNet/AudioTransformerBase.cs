using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>
/// What the audio transformers (<see cref="AudioLoadingTransformer"/>, <see cref="Wav2Vec2FeaturesTransformer"/>,
/// <see cref="Wav2Vec2TranscribeTransformer"/>) share: lazy, schema-checked mapping of one audio column to new columns,
/// safe to read from several cursors and threads at once (the model is loaded once and shared), usable row by row
/// (PredictionEngine). Save pipelines that contain one with
/// <see cref="Wav2Vec2ModelOperations.SaveWav2Vec2(ModelOperationsCatalog, ITransformer, DataViewSchema, string)"/>.
/// </summary>
/// <example><code>
/// ITransformer features = mlContext.Transforms.Wav2Vec2Features("Features", "Audio", "model").Fit(data);
/// IDataView withFeatures = features.Transform(data);   // nothing is computed until a cursor reads "Features"
/// </code></example>
public abstract class AudioTransformerBase : ITransformer
{
    private protected AudioTransformerBase(AudioMapper mapper) => Mapper = mapper;

    internal AudioMapper Mapper { get; }

    /// <summary>The audio column this transformer reads.</summary>
    public string InputColumnName => Mapper.Input.InputColumnName;

    /// <summary>The columns this transformer adds, in order.</summary>
    public IReadOnlyList<string> OutputColumnNames => Mapper.Outputs.Select(o => o.Name).ToList();

    /// <summary>Always true: every row maps to one row (see <see cref="BadAudioHandling.Skip"/> for cursors).</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>The input schema plus the new columns; a missing or mistyped input column fails here.</summary>
    /// <example><code>
    /// DataViewSchema schema = transformer.GetOutputSchema(data.Schema);
    /// </code></example>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Mapper.Bind(inputSchema).OutputSchema;

    /// <summary>The lazily transformed data: rows are computed only when a cursor reads a new column.</summary>
    /// <example><code>
    /// IDataView transformed = transformer.Transform(data);
    /// </code></example>
    public IDataView Transform(IDataView input) => new MappedDataView(input, Mapper.Bind(input.Schema));

    /// <summary>The row-by-row form used by PredictionEngine and transformer chains.</summary>
    /// <example><code>
    /// IRowToRowMapper mapper = transformer.GetRowToRowMapper(data.Schema);
    /// </code></example>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new MappedRowMapper(Mapper.Bind(inputSchema));

    // ML.NET's model format cannot load a transformer from another assembly (its loader registry is internal).
    void ICanSaveModel.Save(ModelSaveContext ctx) => throw new InvalidOperationException(
        $"{GetType().Name} cannot be saved by mlContext.Model.Save (ML.NET cannot load transformers from other assemblies): " +
        "use mlContext.Model.SaveWav2Vec2(model, inputSchema, path) and mlContext.Model.LoadWav2Vec2(path, out inputSchema) " +
        "(namespace Wav2Vec2.MLNet), which store the whole pipeline, weights included, in one zip file.");
}
