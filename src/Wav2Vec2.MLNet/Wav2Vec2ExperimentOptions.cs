using Wav2Vec2.Inference;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>The metric <see cref="Wav2Vec2Experiment"/> ranks configurations by (ML.NET's multiclass metrics).</summary>
public enum Wav2Vec2ExperimentMetric
{
    /// <summary>Mean of per-class accuracies (higher is better).</summary>
    MacroAccuracy,

    /// <summary>Fraction of rows classified correctly (higher is better).</summary>
    MicroAccuracy,

    /// <summary>Log-loss (lower is better).</summary>
    LogLoss,

    /// <summary>Log-loss reduction over the prior (higher is better).</summary>
    LogLossReduction,
}

internal static class ExperimentMetrics
{
    public static bool LowerIsBetter(this Wav2Vec2ExperimentMetric metric) => metric == Wav2Vec2ExperimentMetric.LogLoss;
}

/// <summary>Options of <see cref="Wav2Vec2Experiment"/>: the model, the grid, the folds, the metric and the budgets.</summary>
/// <example><code>
/// var options = new Wav2Vec2ExperimentOptions
/// {
///     ModelDirectory = "wav2vec2-base", AudioColumnName = "Path", AudioFolder = "clips",
///     Layers = [4, 6, 8, 10, 12], Poolings = [Wav2Vec2Pooling.Mean, Wav2Vec2Pooling.MeanAndStd],
///     Trainers = [Wav2Vec2ExperimentTrainer.SdcaMaximumEntropy, Wav2Vec2ExperimentTrainer.LbfgsMaximumEntropy],
///     TimeBudget = TimeSpan.FromMinutes(10),
/// };
/// </code></example>
public sealed class Wav2Vec2ExperimentOptions
{
    /// <summary>A Hugging Face model directory or repo id ("org/name", fetched through the hub cache).</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>An in-memory model instead of <see cref="ModelDirectory"/>.</summary>
    public Wav2Vec2Model? Model { get; set; }

    /// <summary>The audio column: Text (paths, relative to <see cref="AudioFolder"/>) or a vector of 16 kHz samples.</summary>
    public string AudioColumnName { get; set; } = "Audio";

    /// <summary>The folder relative paths are resolved against.</summary>
    public string? AudioFolder { get; set; }

    /// <summary>The label column (any type; it is mapped to a key as MapValueToKey does).</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>The hidden states to try (Hugging Face indices, negative from the end); default every one, 0 to num_hidden_layers.</summary>
    public int[]? Layers { get; set; }

    /// <summary>The poolings to try (known-size ones: Mean, MeanAndStd, Max).</summary>
    public Wav2Vec2Pooling[] Poolings { get; set; } = [Wav2Vec2Pooling.Mean, Wav2Vec2Pooling.MeanAndStd];

    /// <summary>The trainers to try.</summary>
    public IReadOnlyList<Wav2Vec2ExperimentTrainer> Trainers { get; set; } =
        [Wav2Vec2ExperimentTrainer.SdcaMaximumEntropy, Wav2Vec2ExperimentTrainer.LbfgsMaximumEntropy];

    /// <summary>Normalise features (NormalizeMeanVariance) before each trainer, as linear trainers want.</summary>
    public bool NormalizeFeatures { get; set; } = true;

    /// <summary>Cross-validation folds (ML.NET's CrossValidate).</summary>
    public int NumberOfFolds { get; set; } = 5;

    /// <summary>The metric of the leaderboard.</summary>
    public Wav2Vec2ExperimentMetric Metric { get; set; } = Wav2Vec2ExperimentMetric.MacroAccuracy;

    /// <summary>Seed of the fold split.</summary>
    public int? Seed { get; set; } = 0;

    /// <summary>No new configuration starts after this much time (extraction included); the best so far is refitted.</summary>
    public TimeSpan? TimeBudget { get; set; }

    /// <summary>Stops extraction and the sweep (between folds) with an <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>The extracted statistics (3 x hidden_size floats per layer per clip) are cached in memory up to this many
    /// bytes (default 1 GiB), else in a temporary ML.NET binary file in <see cref="CacheDirectory"/>.</summary>
    public long MemoryBudgetBytes { get; set; } = 1L << 30;

    /// <summary>Where the on-disk cache goes (default: the temporary directory); it is deleted at the end.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Clips per forward pass during extraction (see <see cref="Wav2Vec2TransformOptions.BatchSize"/>).</summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>How long recordings are split.</summary>
    public ChunkingOptions? Chunking { get; set; }

    internal void Validate()
    {
        if (Model == null && string.IsNullOrWhiteSpace(ModelDirectory))
            throw new ArgumentException("set ModelDirectory or Model", nameof(ModelDirectory));
        if (Poolings.Length == 0 || Poolings.Contains(Wav2Vec2Pooling.None))
            throw new ArgumentException("a sweep needs one or more known-size poolings (Mean, MeanAndStd, Max)", nameof(Poolings));
        if (Trainers.Count == 0 || Trainers.Select(t => t.Name).Distinct().Count() != Trainers.Count)
            throw new ArgumentException("a sweep needs one or more trainers with distinct names", nameof(Trainers));
        ArgumentOutOfRangeException.ThrowIfLessThan(NumberOfFolds, 2, nameof(NumberOfFolds));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
    }
}
