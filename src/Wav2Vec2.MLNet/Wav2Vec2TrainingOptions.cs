using Microsoft.ML;
using Wav2Vec2.Inference;
using Wav2Vec2.Training;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>
/// What the three training estimators share (<see cref="Wav2Vec2PreTrainingOptions"/>, <see cref="Wav2Vec2CtcTrainerOptions"/>,
/// <see cref="Wav2Vec2AudioClassificationOptions"/>): the model to start from (a directory or an in-memory backbone,
/// as the transforms take theirs), the audio column, the run directory and resuming, validation data, the overrides of
/// the recipe every trainer has (updates, accumulation, batch size, learning rate, seed), threads, cancellation, and the
/// batch size of the transformer that Fit returns.
/// </summary>
/// <example><code>
/// var options = new Wav2Vec2CtcTrainerOptions
/// {
///     ModelDirectory = "pretrained", AudioColumnName = "Path", AudioFolder = "clips", OutputDirectory = "asr-run",
///     MaxUpdates = 2000, Seed = 1, ThreadCount = 2, ValidationData = dev,
/// };
/// </code></example>
public abstract class Wav2Vec2TrainingOptions
{
    private protected Wav2Vec2TrainingOptions()
    {
    }

    /// <summary>A Hugging Face directory or repo id ("org/name", fetched through the hub cache with the HF_* environment
    /// settings, downloads logged in mlContext.Log) of the model to start from (a backbone, pre-training or task checkpoint; other
    /// heads are ignored and reported in mlContext.Log). Fine-tuning needs it or <see cref="Model"/>; pre-training
    /// continues from it when given.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>An in-memory backbone to start from instead of <see cref="ModelDirectory"/>, such as the
    /// <see cref="Wav2Vec2FeaturesTransformer.Model"/> of a Wav2Vec2PreTrain Fit (it is copied, not changed).</summary>
    public Wav2Vec2Model? Model { get; set; }

    /// <summary>The audio column: Text (an audio file path, relative to <see cref="AudioFolder"/>) or a vector of Single
    /// (16 kHz mono samples, as LoadAudio produces; such rows are held in memory for the run).</summary>
    public string AudioColumnName { get; set; } = "Audio";

    /// <summary>The folder that relative paths are resolved against (as LoadImages' imageFolder).</summary>
    public string? AudioFolder { get; set; }

    /// <summary>
    /// The run directory: train_log.jsonl, checkpoint-N/ (resumable), best/ (with validation data) and final/, all Hugging
    /// Face model directories. Null: a temporary folder, deleted when Fit returns a model (kept, and named in the
    /// exception, when Fit is cancelled).
    /// </summary>
    public string? OutputDirectory { get; set; }

    /// <summary>Continue from the newest checkpoint in <see cref="OutputDirectory"/> (exactly: 2N updates equal N, resume, N);
    /// without it, a directory that already holds checkpoints is refused.</summary>
    public bool ResumeFromCheckpoint { get; set; }

    /// <summary>Held-out rows with the same columns: validated every ValidateInterval updates (logged), the best model
    /// kept in best/.</summary>
    public IDataView? ValidationData { get; set; }

    /// <summary>Updates to train (null: the recipe's).</summary>
    public int? MaxUpdates { get; set; }

    /// <summary>Batches accumulated per update (null: the recipe's).</summary>
    public int? UpdateFreq { get; set; }

    /// <summary>Peak learning rate (null: the recipe's).</summary>
    public float? LearningRate { get; set; }

    /// <summary>Samples per batch, batch size x longest recording (null: the recipe's).</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Seed of data order, masks, dropout and new weights (null: the recipe's). With a fixed
    /// <see cref="ThreadCount"/> the trained weights are the same on every run.</summary>
    public ulong? Seed { get; set; }

    /// <summary>Write progress (train_log.jsonl, mlContext.Log, the progress channel) every this many updates (null: the recipe's).</summary>
    public int? LogInterval { get; set; }

    /// <summary>When set, the threads training and each computation of the returned transformer run on (a
    /// <see cref="Threading.Parallelism.Scope"/> around them: other pipelines in the process keep their own).</summary>
    public int? ThreadCount { get; set; }

    /// <summary>Stops training after the current batch: the last completed update is saved as a checkpoint in
    /// <see cref="OutputDirectory"/> and Fit throws an <see cref="OperationCanceledException"/> that names it.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Rows per forward pass of the returned transformer (see <see cref="Wav2Vec2TransformOptions.BatchSize"/>).</summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>How the returned transformer splits long recordings (default: 30 s windows with 5 s of context each side).</summary>
    public ChunkingOptions? Chunking { get; set; }

    /// <summary>The overrides given here, as the core maps them onto any recipe (the command line's flags map the same way).</summary>
    private protected TrainingOverrides Overrides() => new()
    {
        MaxUpdates = MaxUpdates, UpdateFreq = UpdateFreq, LearningRate = LearningRate, MaxTokens = MaxTokens, Seed = Seed, LogInterval = LogInterval,
    };

    /// <summary>Where the model came from, for messages.</summary>
    internal string Source => ModelDirectory ?? "the given model";

    /// <summary>Checks the settings every trainer shares and the output columns, and that at most (with
    /// <paramref name="modelRequired"/>, exactly) one starting model is given.</summary>
    private protected void ValidateCommon(bool modelRequired, params (string Name, string? Value)[] columns)
    {
        foreach (var (name, value) in columns)
            if (string.IsNullOrWhiteSpace(value))
                throw new ArgumentException($"{name} is needed", name);
        if (ModelDirectory != null && Model != null || modelRequired && ModelDirectory == null && Model == null)
            throw new ArgumentException($"set ModelDirectory or Model ({(modelRequired ? "one" : "at most one")} of them)", nameof(ModelDirectory));
        if (ModelDirectory != null && !Directory.Exists(ModelDirectory) && !IO.ModelHub.IsRepoId(ModelDirectory))
            throw new DirectoryNotFoundException($"model directory '{ModelDirectory}' does not exist, and it is not a Hugging Face repo id");
        if (string.IsNullOrWhiteSpace(AudioColumnName))
            throw new ArgumentException("an audio column name is needed", nameof(AudioColumnName));
        foreach (var (name, value) in new[] { (nameof(MaxUpdates), MaxUpdates), (nameof(UpdateFreq), UpdateFreq),
            (nameof(LogInterval), LogInterval), (nameof(ThreadCount), ThreadCount), (nameof(MaxTokens), MaxTokens), (nameof(BatchSize), (int?)BatchSize) })
            if (value < 1)
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1");
        if (LearningRate is float rate && !(rate > 0))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), rate, "LearningRate must be positive");
        if (AudioFolder != null && !Directory.Exists(AudioFolder))
            throw new DirectoryNotFoundException($"audio folder '{AudioFolder}' does not exist");
    }

    /// <summary>The input settings of the transformer Fit returns.</summary>
    internal Internal.AudioInputSettings InputSettings(Microsoft.ML.Runtime.IHostEnvironment? environment) =>
        new(AudioColumnName, string.IsNullOrEmpty(AudioFolder) ? null : Path.GetFullPath(AudioFolder), BadAudioHandling.Fail,
            BatchSize, environment, default);
}
