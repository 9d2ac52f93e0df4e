using Microsoft.ML;
using Wav2Vec2.IO;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Saving and loading pipelines that contain the audio transformers, on <c>mlContext.Model</c>. ML.NET's own
/// <c>mlContext.Model.Save</c> cannot store a transformer from another assembly (it fails naming these methods); these
/// write one self-contained zip: the ML.NET parts through <c>mlContext.Model.Save</c>, the audio transformers' settings
/// and model weights beside them.
/// </summary>
/// <example><code>
/// mlContext.Model.SaveWav2Vec2(model, data.Schema, "classifier.zip");
/// ITransformer loaded = mlContext.Model.LoadWav2Vec2("classifier.zip", out DataViewSchema inputSchema);
/// </code></example>
public static class Wav2Vec2ModelOperations
{
    /// <summary>Saves <paramref name="model"/> (any fitted pipeline) and the schema it reads to a zip file.</summary>
    /// <param name="catalog">mlContext.Model.</param>
    /// <param name="model">The fitted pipeline, with or without audio transformers.</param>
    /// <param name="inputSchema">The schema of the data the pipeline reads (data.Schema).</param>
    /// <param name="filePath">The zip to write (replaced only once written completely).</param>
    /// <example><code>
    /// mlContext.Model.SaveWav2Vec2(model, data.Schema, "classifier.zip");
    /// </code></example>
    public static void SaveWav2Vec2(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        AtomicFile.Write(filePath, stream => catalog.SaveWav2Vec2(model, inputSchema, stream));
    }

    /// <summary>Saves <paramref name="model"/> and its input schema to a stream (as a zip).</summary>
    /// <example><code>
    /// using var stream = File.Create("classifier.zip");
    /// mlContext.Model.SaveWav2Vec2(model, data.Schema, stream);
    /// </code></example>
    public static void SaveWav2Vec2(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, Stream stream) =>
        ModelArchive.Save(catalog, model, inputSchema, stream);

    /// <summary>Loads a pipeline written by SaveWav2Vec2; it predicts exactly as the saved one did.</summary>
    /// <param name="catalog">mlContext.Model.</param>
    /// <param name="filePath">The zip.</param>
    /// <param name="inputSchema">The schema the pipeline reads.</param>
    /// <example><code>
    /// ITransformer model = mlContext.Model.LoadWav2Vec2("classifier.zip", out DataViewSchema inputSchema);
    /// var engine = mlContext.Model.CreatePredictionEngine&lt;Clip, Prediction&gt;(model);
    /// </code></example>
    public static ITransformer LoadWav2Vec2(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema)
    {
        using FileStream stream = File.OpenRead(filePath);
        return catalog.LoadWav2Vec2(stream, out inputSchema);
    }

    /// <summary>Loads a pipeline written by SaveWav2Vec2 from a stream.</summary>
    /// <example><code>
    /// using var stream = File.OpenRead("classifier.zip");
    /// ITransformer model = mlContext.Model.LoadWav2Vec2(stream, out DataViewSchema inputSchema);
    /// </code></example>
    public static ITransformer LoadWav2Vec2(this ModelOperationsCatalog catalog, Stream stream, out DataViewSchema inputSchema) =>
        ModelArchive.Load(catalog, stream, out inputSchema);
}
