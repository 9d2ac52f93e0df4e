using Wav2Vec2.Inference;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>
/// What <see cref="Wav2Vec2FeaturesOptions"/> and <see cref="Wav2Vec2TranscribeOptions"/> share: the columns, where the
/// model and the audio come from, batching, threads, cancellation and bad rows.
/// </summary>
/// <example><code>
/// var options = new Wav2Vec2FeaturesOptions { ModelDirectory = "wav2vec2-base", InputColumnName = "Path", AudioFolder = "clips", BatchSize = 4 };
/// </code></example>
public abstract class Wav2Vec2TransformOptions
{
    private protected Wav2Vec2TransformOptions(string outputColumnName) => OutputColumnName = outputColumnName;

    /// <summary>The new column.</summary>
    public string OutputColumnName { get; set; }

    /// <summary>The audio column: Text (an audio file path, relative to <see cref="AudioFolder"/>) or a vector of Single
    /// (16 kHz mono samples, as <see cref="Wav2Vec2TransformsCatalog.LoadAudio"/> produces).</summary>
    public string InputColumnName { get; set; } = "Audio";

    /// <summary>A Hugging Face model directory (config.json, weights, preprocessor_config.json) or repo id ("org/name",
    /// fetched through the hub cache with the HF_* environment settings, downloads logged in mlContext.Log), loaded once
    /// per estimator.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>The folder that relative paths are resolved against (as LoadImages' imageFolder).</summary>
    public string? AudioFolder { get; set; }

    /// <summary>How long recordings are split (default: 30 s windows with 5 s of context each side).</summary>
    public ChunkingOptions? Chunking { get; set; }

    /// <summary>Rows computed in one forward pass (read ahead by a second input cursor; equal lengths only for group-norm
    /// models such as BASE). 1 computes exactly the rows that are read.</summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>When set, the threads each computation runs on (a <see cref="Threading.Parallelism.Scope"/> around it:
    /// other pipelines in the process keep their own); null: the engine's current degree.</summary>
    public int? ThreadCount { get; set; }

    /// <summary>The arithmetic of the model: <see cref="Nn.Precision.Int8"/> quantises its linear layers and convolutions
    /// (faster; within 0.03 CER points on the bundled model's test set, docs/performance.md), <see cref="Nn.Precision.BFloat16"/>
    /// keeps its linear weights in bfloat16; null (default): as the model is stored (int8 or bf16 for a directory written
    /// by <c>w2v2 quantize</c>, which runs in no other precision). Saved with the
    /// transform. It is applied to the model object, so transforms sharing an in-memory <c>Model</c> share its precision.</summary>
    public Nn.Precision? Precision { get; set; }

    /// <summary>Cancels cursors of the transformed data (and so a Fit that reads them) with an <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Fail on a row with unusable audio (default), or leave it out with a count in mlContext.Log.</summary>
    public BadAudioHandling BadAudio { get; set; }

    /// <summary>The input settings of a transform made from these options.</summary>
    internal Internal.AudioInputSettings InputSettings(Microsoft.ML.Runtime.IHostEnvironment? environment) =>
        new(InputColumnName, string.IsNullOrEmpty(AudioFolder) ? null : Path.GetFullPath(AudioFolder), BadAudio, BatchSize,
            environment, CancellationToken) { Precision = Precision };

    /// <summary>Checks that the new columns have names, distinct from the output column's and each other's.</summary>
    private protected void ValidateColumnNames(params string[] names)
    {
        string[] all = [OutputColumnName, .. names];
        if (all.Any(string.IsNullOrWhiteSpace) || all.Distinct().Count() != all.Length)
            throw new ArgumentException($"the new columns need distinct names, got {string.Join(", ", all.Select(n => $"'{n}'"))}");
    }

    /// <summary>Checks the settings every transform shares.</summary>
    private protected void ValidateCommon(bool hasModel)
    {
        if (string.IsNullOrWhiteSpace(OutputColumnName))
            throw new ArgumentException("an output column name is needed", nameof(OutputColumnName));
        if (string.IsNullOrWhiteSpace(InputColumnName))
            throw new ArgumentException("an input column name is needed", nameof(InputColumnName));
        if (!hasModel && string.IsNullOrWhiteSpace(ModelDirectory))
            throw new ArgumentException("set ModelDirectory or Model", nameof(ModelDirectory));
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1");
        if (Precision is Nn.Precision precision && !Enum.IsDefined(precision))
            throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "unknown precision");
        if (ThreadCount < 1)
            throw new ArgumentOutOfRangeException(nameof(ThreadCount), ThreadCount, "ThreadCount must be at least 1");
        if (AudioFolder != null && !Directory.Exists(AudioFolder))
            throw new DirectoryNotFoundException($"audio folder '{AudioFolder}' does not exist");
    }
}
