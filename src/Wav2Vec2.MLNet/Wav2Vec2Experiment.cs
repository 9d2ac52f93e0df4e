using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>
/// An AutoML-style sweep over (layer, pooling, trainer) for a labeled audio data set: every layer is extracted in one
/// forward pass per clip (reduced to per-layer mean, standard deviation and maximum, cached in memory or on disk), each
/// configuration is cross-validated with ML.NET's CrossValidate, and the best is refitted as a normal pipeline (audio
/// column in, PredictedLabel out) that saves with SaveWav2Vec2. Progress goes to mlContext.Log.
/// </summary>
/// <example><code>
/// var experiment = new Wav2Vec2Experiment(mlContext, new Wav2Vec2ExperimentOptions
/// {
///     ModelDirectory = "wav2vec2-base", AudioColumnName = "Path", AudioFolder = "clips", Layers = [3, 6, 9, 12],
/// });
/// Wav2Vec2ExperimentResult result = experiment.Execute(data);
/// Console.WriteLine(result);   // leaderboard: mean and std of MacroAccuracy per configuration
/// mlContext.Model.SaveWav2Vec2(result.Model, data.Schema, "best.zip");
/// </code></example>
public sealed class Wav2Vec2Experiment
{
    private const string Channel = "Wav2Vec2Experiment";
    private readonly MLContext _ml;
    private readonly Wav2Vec2ExperimentOptions _options;

    /// <summary>Creates an experiment; the options are checked here.</summary>
    /// <example><code>
    /// var experiment = new Wav2Vec2Experiment(mlContext, new Wav2Vec2ExperimentOptions { ModelDirectory = "model" });
    /// </code></example>
    public Wav2Vec2Experiment(MLContext mlContext, Wav2Vec2ExperimentOptions options)
    {
        _ml = mlContext ?? throw new ArgumentNullException(nameof(mlContext));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    /// <summary>Runs the sweep on <paramref name="data"/> (an audio column and a label column).</summary>
    /// <example><code>
    /// Wav2Vec2ExperimentResult result = experiment.Execute(data);
    /// Console.WriteLine($"best: layer {result.Best.Layer}, {result.Best.Pooling}, {result.Best.Trainer}");
    /// </code></example>
    public Wav2Vec2ExperimentResult Execute(IDataView data)
    {
        var clock = Stopwatch.StartNew();
        Wav2Vec2ExperimentOptions o = _options;
        IHostEnvironment? environment = MLNetInterop.Environment(_ml);
        if (data.Schema.GetColumnOrNull(o.LabelColumnName) == null)
            throw SchemaErrors.MissingColumn(Channel, o.LabelColumnName);
        Wav2Vec2Model model = o.Model ?? ModelLoading.Backbone(environment, o.ModelDirectory!);
        int count = model.Config.NumHiddenLayers;
        int[] layers = (o.Layers ?? Enumerable.Range(0, count + 1).ToArray()).Select(l => l < 0 ? count + 1 + l : l).Distinct().ToArray();
        var input = new AudioInputSettings(o.AudioColumnName, string.IsNullOrEmpty(o.AudioFolder) ? null : Path.GetFullPath(o.AudioFolder),
            BadAudioHandling.Fail, o.BatchSize, environment, o.CancellationToken);
        var statistics = new LayerStatisticsMapper(input, model, layers, o.Chunking);   // checks the layer range
        var features = new MappedDataView(data, statistics.Bind(data.Schema));
        string[] columns = [o.LabelColumnName, .. statistics.Outputs.Select(c => c.Name)];
        IDataView selected = _ml.Transforms.SelectColumns(columns).Fit(features).Transform(features);

        string? cacheFile = null;
        try
        {
            IDataView cache = Cache(selected, columns, layers.Length * 3L * model.Config.HiddenSize * sizeof(float), environment, ref cacheFile);
            TimeSpan extraction = clock.Elapsed;
            MLNetInterop.Info(environment, Channel, $"extracted {statistics.ClipsComputed} clips ({layers.Length} layers) in " +
                $"{extraction.TotalSeconds:F1} s" + (cacheFile == null ? ", cached in memory" : $", cached on disk ({cacheFile})"));
            var grid = (from layer in layers from pooling in o.Poolings from trainer in o.Trainers select (layer, pooling, trainer)).ToList();
            var trials = new List<Wav2Vec2ExperimentTrial>();
            foreach (var (layer, pooling, trainer) in grid)
            {
                o.CancellationToken.ThrowIfCancellationRequested();
                if (trials.Count > 0 && clock.Elapsed > o.TimeBudget)
                {
                    MLNetInterop.Info(environment, Channel, $"time budget of {o.TimeBudget} spent: {trials.Count} of {grid.Count} configurations ran");
                    break;
                }
                trials.Add(CrossValidate(cache, layer, pooling, trainer));
                Wav2Vec2ExperimentTrial t = trials[^1];
                MLNetInterop.Info(environment, Channel, $"{trials.Count}/{grid.Count}: layer {layer}, {pooling}, {trainer.Name}: " +
                    $"{o.Metric} {t.Mean:F4} ± {t.StandardDeviation:F4} ({t.Duration.TotalSeconds:F1} s)");
            }
            var leaderboard = (o.Metric.LowerIsBetter() ? trials.OrderBy(t => t.Mean) : trials.OrderByDescending(t => t.Mean)).ToList();
            ITransformer best = Refit(cache, leaderboard[0], input, model);
            MLNetInterop.Info(environment, Channel, $"best: layer {leaderboard[0].Layer}, {leaderboard[0].Pooling}, " +
                $"{leaderboard[0].Trainer} ({o.Metric} {leaderboard[0].Mean:F4}); refitted on all rows");
            return new Wav2Vec2ExperimentResult(o.Metric, leaderboard, best, grid.Count, statistics.ClipsComputed, extraction);
        }
        finally
        {
            if (cacheFile != null)
                File.Delete(cacheFile);
        }
    }

    // The statistics of every row, computed once: in memory within the budget, else in an ML.NET binary file.
    private IDataView Cache(IDataView selected, string[] columns, long bytesPerRow, IHostEnvironment? environment, ref string? file)
    {
        long rows = selected.GetRowCount() ?? CountRows(selected);
        IDataView cache;
        if (rows * bytesPerRow <= _options.MemoryBudgetBytes)
            cache = _ml.Data.Cache(selected, columns);
        else
        {
            file = Path.Combine(_options.CacheDirectory ?? Path.GetTempPath(), $"wav2vec2-experiment-{Guid.NewGuid():N}.idv");
            MLNetInterop.Info(environment, Channel, $"{rows} rows x {bytesPerRow} bytes exceed the memory budget: caching to {file}");
            using (FileStream stream = File.Create(file))
                _ml.Data.SaveAsBinary(selected, stream, keepHidden: false);
            cache = _ml.Data.LoadFromBinary(file);
        }
        // One full pass now, so that extraction is done (and timed) before the sweep; progress every tenth of the rows.
        using DataViewRowCursor cursor = cache.GetRowCursor(cache.Schema);
        var getters = cache.Schema.Skip(1).Select(c => cursor.GetGetter<VBuffer<float>>(c)).ToArray();
        VBuffer<float> value = default;
        long done = 0, step = Math.Max(1, rows / 10);
        while (cursor.MoveNext())
        {
            foreach (var getter in getters)
                getter(ref value);
            if (++done % step == 0 && done < rows)
                MLNetInterop.Info(environment, Channel, $"extracting: {done} of {rows} clips");
        }
        return cache;
    }

    private static long CountRows(IDataView data)
    {
        long rows = 0;
        using DataViewRowCursor cursor = data.GetRowCursor([]);
        while (cursor.MoveNext())
            rows++;
        return rows;
    }

    private Wav2Vec2ExperimentTrial CrossValidate(IDataView cache, int layer, Wav2Vec2Pooling pooling, Wav2Vec2ExperimentTrainer trainer)
    {
        var clock = Stopwatch.StartNew();
        IEstimator<ITransformer> estimator = _ml.Transforms.Concatenate("Features", LayerStatisticsMapper.PoolingColumns(layer, pooling))
            .Append(Tail(trainer));
        var folds = _ml.MulticlassClassification.CrossValidate(cache, estimator, _options.NumberOfFolds, "Label", seed: _options.Seed)
            .Select(fold => Metric(fold.Metrics)).ToList();
        double mean = folds.Average();
        double std = Math.Sqrt(folds.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, folds.Count - 1));
        return new Wav2Vec2ExperimentTrial(layer, pooling, trainer.Name, mean, std, folds, clock.Elapsed);
    }

    // Features (already in the "Features" column) to a trained classifier: normalise, key the label, cache, train.
    private EstimatorChain<ITransformer> Tail(Wav2Vec2ExperimentTrainer trainer)
    {
        var chain = new EstimatorChain<ITransformer>();
        if (_options.NormalizeFeatures)
            chain = chain.Append<ITransformer>(_ml.Transforms.NormalizeMeanVariance("Features"));
        return chain.Append(_ml.Transforms.Conversion.MapValueToKey("Label", _options.LabelColumnName))
            .AppendCacheCheckpoint(_ml)
            .Append(trainer.Create(_ml));
    }

    // The best configuration as a pipeline from audio: its features transformer, then the tail trained on the cached
    // features (equal to what the transformer computes), so refitting costs no second pass over the audio.
    private ITransformer Refit(IDataView cache, Wav2Vec2ExperimentTrial best, AudioInputSettings input, Wav2Vec2Model model)
    {
        var settings = new FeaturesSettings("Features", [best.Layer], false, best.Pooling, null, _options.Chunking, null);
        var features = new Wav2Vec2FeaturesTransformer(new FeaturesMapper(input with { CancellationToken = default }, model, settings));
        IDataView trainingFeatures = _ml.Transforms.Concatenate("Features", LayerStatisticsMapper.PoolingColumns(best.Layer, best.Pooling))
            .Fit(cache).Transform(cache);
        Wav2Vec2ExperimentTrainer trainer = _options.Trainers.First(t => t.Name == best.Trainer);
        ITransformer tail = Tail(trainer).Append(_ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")).Fit(trainingFeatures);
        return new TransformerChain<ITransformer>(features, tail);
    }

    private double Metric(MulticlassClassificationMetrics metrics) => _options.Metric switch
    {
        Wav2Vec2ExperimentMetric.MicroAccuracy => metrics.MicroAccuracy,
        Wav2Vec2ExperimentMetric.LogLoss => metrics.LogLoss,
        Wav2Vec2ExperimentMetric.LogLossReduction => metrics.LogLossReduction,
        _ => metrics.MacroAccuracy,
    };
}
