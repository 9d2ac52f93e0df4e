using Microsoft.ML;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>
/// The audio transforms on <c>mlContext.Transforms</c>: <see cref="LoadAudio"/>, Wav2Vec2Features and
/// Wav2Vec2Transcribe, lazy (a row is computed when a cursor reads the new column), checking their input column at
/// Fit/GetOutputSchema, loading a model once per estimator and logging through mlContext.Log; and Wav2Vec2PreTrain, the
/// learned one, whose Fit pre-trains a model on the audio and returns its Wav2Vec2Features transformer.
/// </summary>
/// <example><code>
/// var pipeline = mlContext.Transforms.LoadAudio("Audio", "clips", "Path")
///     .Append(mlContext.Transforms.Wav2Vec2Features("Features", "Audio", "wav2vec2-base", layer: 6))
///     .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
///     .AppendCacheCheckpoint(mlContext)
///     .Append(mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy());
/// </code></example>
public static class Wav2Vec2TransformsCatalog
{
    /// <summary>
    /// Reads audio files named in a Text column (WAV, FLAC, MP3, Ogg Vorbis or Opus, AIFF; any rate and channel count) into a variable-length vector of
    /// 16 kHz mono samples (channels averaged, resampled).
    /// </summary>
    /// <param name="catalog">mlContext.Transforms.</param>
    /// <param name="outputColumnName">The new column of samples.</param>
    /// <param name="audioFolder">The folder relative paths are resolved against (as LoadImages' imageFolder).</param>
    /// <param name="inputColumnName">The Text column of paths (default: <paramref name="outputColumnName"/>).</param>
    /// <param name="badAudio">Fail on an unreadable file (default) or leave its row out.</param>
    /// <example><code>
    /// var load = mlContext.Transforms.LoadAudio(outputColumnName: "Audio", audioFolder: "clips", inputColumnName: "Path");
    /// </code></example>
    public static AudioLoadingEstimator LoadAudio(this TransformsCatalog catalog, string outputColumnName,
        string? audioFolder = null, string? inputColumnName = null, BadAudioHandling badAudio = BadAudioHandling.Fail) =>
        new(MLNetInterop.Environment(catalog), outputColumnName, audioFolder, inputColumnName ?? outputColumnName, badAudio);

    /// <summary>
    /// wav2vec 2.0 features of an audio column: the hidden states of <paramref name="layer"/>, pooled over frames into a
    /// known-size vector with slot names that every ML.NET trainer accepts.
    /// </summary>
    /// <param name="catalog">mlContext.Transforms.</param>
    /// <param name="outputColumnName">The new column (Features).</param>
    /// <param name="inputColumnName">Text (audio file paths) or a vector of Single (16 kHz samples, from LoadAudio).</param>
    /// <param name="modelDirectory">A Hugging Face model directory (config.json, weights, preprocessor_config.json).</param>
    /// <param name="layer">Hugging Face hidden_states index: 0 is after the positional convolution, -1 the last layer.</param>
    /// <param name="pooling">How frames become one vector (see <see cref="Wav2Vec2Pooling"/>).</param>
    /// <param name="audioFolder">The folder relative paths are resolved against.</param>
    /// <example><code>
    /// var features = mlContext.Transforms.Wav2Vec2Features("Features", "Audio", "wav2vec2-base", layer: 6,
    ///     pooling: Wav2Vec2Pooling.MeanAndStd);
    /// </code></example>
    public static Wav2Vec2FeaturesEstimator Wav2Vec2Features(this TransformsCatalog catalog, string outputColumnName,
        string inputColumnName, string modelDirectory, int layer = -1, Wav2Vec2Pooling pooling = Wav2Vec2Pooling.Mean,
        string? audioFolder = null) =>
        catalog.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            OutputColumnName = outputColumnName, InputColumnName = inputColumnName, ModelDirectory = modelDirectory,
            Layers = [layer], Pooling = pooling, AudioFolder = audioFolder,
        });

    /// <summary>wav2vec 2.0 features with every option: several layers from one forward pass, an in-memory model,
    /// chunking, batching, threads, cancellation, bad-row handling.</summary>
    /// <example><code>
    /// var features = mlContext.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
    /// {
    ///     ModelDirectory = "wav2vec2-base", InputColumnName = "Audio", Layers = [4, 8, 12], Pooling = Wav2Vec2Pooling.Mean,
    /// });   // columns Features_L4, Features_L8, Features_L12
    /// </code></example>
    public static Wav2Vec2FeaturesEstimator Wav2Vec2Features(this TransformsCatalog catalog, Wav2Vec2FeaturesOptions options) =>
        new(MLNetInterop.Environment(catalog), options ?? throw new ArgumentNullException(nameof(options)));

    /// <summary>Transcribes an audio column with a CTC model (greedy decoding) into a Text column.</summary>
    /// <param name="catalog">mlContext.Transforms.</param>
    /// <param name="outputColumnName">The new Text column.</param>
    /// <param name="inputColumnName">Text (audio file paths) or a vector of Single (16 kHz samples).</param>
    /// <param name="modelDirectory">A Hugging Face Wav2Vec2ForCTC directory with vocab.json.</param>
    /// <param name="audioFolder">The folder relative paths are resolved against.</param>
    /// <example><code>
    /// var asr = mlContext.Transforms.Wav2Vec2Transcribe("Text", "Path", "wav2vec2-base-960h", audioFolder: "clips");
    /// </code></example>
    public static Wav2Vec2TranscribeEstimator Wav2Vec2Transcribe(this TransformsCatalog catalog, string outputColumnName,
        string inputColumnName, string modelDirectory, string? audioFolder = null) =>
        catalog.Wav2Vec2Transcribe(new Wav2Vec2TranscribeOptions
        {
            OutputColumnName = outputColumnName, InputColumnName = inputColumnName, ModelDirectory = modelDirectory,
            AudioFolder = audioFolder,
        });

    /// <summary>Transcription with every option (an in-memory model, the decoder, chunking, batching, bad rows).</summary>
    /// <example><code>
    /// var asr = mlContext.Transforms.Wav2Vec2Transcribe(new Wav2Vec2TranscribeOptions
    /// {
    ///     ModelDirectory = "wav2vec2-base-960h", InputColumnName = "Audio", BatchSize = 4,
    /// });
    /// </code></example>
    public static Wav2Vec2TranscribeEstimator Wav2Vec2Transcribe(this TransformsCatalog catalog, Wav2Vec2TranscribeOptions options) =>
        new(MLNetInterop.Environment(catalog), options ?? throw new ArgumentNullException(nameof(options)));

    /// <summary>
    /// Forced alignment: each row's transcript (a Text column, any case and punctuation) placed on its audio, giving the
    /// words (a vector of Text, <paramref name="outputColumnName"/>) and their starts and ends in seconds ("WordStarts",
    /// "WordEnds"; vectors of Single).
    /// </summary>
    /// <param name="catalog">mlContext.Transforms.</param>
    /// <param name="outputColumnName">The words column.</param>
    /// <param name="inputColumnName">Text (audio file paths) or a vector of Single (16 kHz samples).</param>
    /// <param name="transcriptColumnName">The Text column of transcripts.</param>
    /// <param name="modelDirectory">A Hugging Face Wav2Vec2ForCTC directory with vocab.json.</param>
    /// <param name="audioFolder">The folder relative paths are resolved against.</param>
    /// <example><code>
    /// var align = mlContext.Transforms.Wav2Vec2Align("Words", "Path", "Transcript", "wav2vec2-base-960h", audioFolder: "clips");
    /// </code></example>
    public static Wav2Vec2AlignEstimator Wav2Vec2Align(this TransformsCatalog catalog, string outputColumnName, string inputColumnName,
        string transcriptColumnName, string modelDirectory, string? audioFolder = null) =>
        catalog.Wav2Vec2Align(new Wav2Vec2AlignOptions
        {
            OutputColumnName = outputColumnName, InputColumnName = inputColumnName, TranscriptColumnName = transcriptColumnName,
            ModelDirectory = modelDirectory, AudioFolder = audioFolder,
        });

    /// <summary>Forced alignment with every option (an in-memory model, column names, unknown characters, chunking,
    /// batching, bad rows).</summary>
    /// <example><code>
    /// var align = mlContext.Transforms.Wav2Vec2Align(new Wav2Vec2AlignOptions { ModelDirectory = "model", InputColumnName = "Audio", BatchSize = 4 });
    /// </code></example>
    public static Wav2Vec2AlignEstimator Wav2Vec2Align(this TransformsCatalog catalog, Wav2Vec2AlignOptions options) =>
        new(MLNetInterop.Environment(catalog), options ?? throw new ArgumentNullException(nameof(options)));

    /// <summary>
    /// Self-supervised pre-training on an audio column (no labels needed): Fit runs fairseq's wav2vec 2.0 recipe and
    /// returns the <see cref="Wav2Vec2FeaturesTransformer"/> of the pre-trained model (last layer, mean-pooled).
    /// </summary>
    /// <param name="catalog">mlContext.Transforms.</param>
    /// <param name="outputColumnName">The features column of the returned transformer.</param>
    /// <param name="inputColumnName">Text (audio file paths) or a vector of Single (16 kHz samples).</param>
    /// <param name="preset">Recipe and architecture: "tiny" (CPU-sized), "base" or "large" (fairseq's).</param>
    /// <param name="maxUpdates">Updates to train (null: the recipe's).</param>
    /// <param name="outputDirectory">The run directory for checkpoints (null: temporary).</param>
    /// <param name="audioFolder">The folder relative paths are resolved against.</param>
    /// <example><code>
    /// Wav2Vec2FeaturesTransformer features = mlContext.Transforms.Wav2Vec2PreTrain("Features", "Path", preset: "tiny",
    ///     maxUpdates: 2000, outputDirectory: "pretrain-run", audioFolder: "clips").Fit(unlabeled);
    /// </code></example>
    public static Wav2Vec2PreTrainingEstimator Wav2Vec2PreTrain(this TransformsCatalog catalog, string outputColumnName,
        string inputColumnName, string preset = "tiny", int? maxUpdates = null, string? outputDirectory = null, string? audioFolder = null) =>
        catalog.Wav2Vec2PreTrain(new Wav2Vec2PreTrainingOptions
        {
            OutputColumnName = outputColumnName, AudioColumnName = inputColumnName, Preset = preset, MaxUpdates = maxUpdates,
            OutputDirectory = outputDirectory, AudioFolder = audioFolder,
        });

    /// <summary>Pre-training with every option: a config or initial model, a complete recipe, validation, resume,
    /// threads, cancellation, and the layers and pooling of the returned transformer.</summary>
    /// <example><code>
    /// var preTrain = mlContext.Transforms.Wav2Vec2PreTrain(new Wav2Vec2PreTrainingOptions
    /// {
    ///     ModelDirectory = "wav2vec2-base", MaxUpdates = 20_000, UpdateFreq = 8, AudioColumnName = "Audio",
    ///     OutputDirectory = "pretrain-run", ValidationFraction = 0.02, CancellationToken = stop.Token,
    /// });
    /// </code></example>
    public static Wav2Vec2PreTrainingEstimator Wav2Vec2PreTrain(this TransformsCatalog catalog, Wav2Vec2PreTrainingOptions options) =>
        new(MLNetInterop.Environment(catalog), options ?? throw new ArgumentNullException(nameof(options)));
}
