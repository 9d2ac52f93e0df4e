using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Wav2Vec2.IO;

namespace Wav2Vec2.MLNet;

/// <summary>One configuration of the sweep and its cross-validated metric.</summary>
/// <param name="Layer">The hidden-state index.</param>
/// <param name="Pooling">The pooling.</param>
/// <param name="Trainer">The trainer's name.</param>
/// <param name="Mean">Mean of the metric over folds.</param>
/// <param name="StandardDeviation">Standard deviation of the metric over folds.</param>
/// <param name="Folds">The metric of each fold.</param>
/// <param name="Duration">Wall time of its cross-validation.</param>
/// <example><code>
/// foreach (Wav2Vec2ExperimentTrial trial in result.Leaderboard)
///     Console.WriteLine($"{trial.Layer} {trial.Pooling} {trial.Trainer}: {trial.Mean:F3} ± {trial.StandardDeviation:F3}");
/// </code></example>
public sealed record Wav2Vec2ExperimentTrial(int Layer, Wav2Vec2Pooling Pooling, string Trainer, double Mean,
    double StandardDeviation, IReadOnlyList<double> Folds, TimeSpan Duration);

/// <summary>What <see cref="Wav2Vec2Experiment.Execute"/> found: the leaderboard and the best configuration refitted.</summary>
/// <example><code>
/// Wav2Vec2ExperimentResult result = experiment.Execute(data);
/// Console.WriteLine(result);                                    // the leaderboard as a table
/// mlContext.Model.SaveWav2Vec2(result.Model, data.Schema, "best.zip");
/// </code></example>
public sealed class Wav2Vec2ExperimentResult
{
    internal Wav2Vec2ExperimentResult(Wav2Vec2ExperimentMetric metric, IReadOnlyList<Wav2Vec2ExperimentTrial> leaderboard,
        ITransformer model, int configurations, long clipsExtracted, TimeSpan extractionTime)
    {
        Metric = metric;
        Leaderboard = leaderboard;
        Model = model;
        Configurations = configurations;
        ClipsExtracted = clipsExtracted;
        ExtractionTime = extractionTime;
    }

    /// <summary>The metric the leaderboard is ranked by.</summary>
    public Wav2Vec2ExperimentMetric Metric { get; }

    /// <summary>Every configuration that ran, best first.</summary>
    public IReadOnlyList<Wav2Vec2ExperimentTrial> Leaderboard { get; }

    /// <summary>The best configuration.</summary>
    public Wav2Vec2ExperimentTrial Best => Leaderboard[0];

    /// <summary>The best configuration refitted on all the data: audio column in, Score and PredictedLabel (the
    /// original label values) out; save it with SaveWav2Vec2.</summary>
    public ITransformer Model { get; }

    /// <summary>Configurations in the grid; fewer ran when the time budget ran out (see <see cref="Completed"/>).</summary>
    public int Configurations { get; }

    /// <summary>Whether every configuration ran.</summary>
    public bool Completed => Leaderboard.Count == Configurations;

    /// <summary>Clips run through the model: one per row, whatever the number of configurations and folds.</summary>
    public long ClipsExtracted { get; }

    /// <summary>Wall time of the one extraction pass.</summary>
    public TimeSpan ExtractionTime { get; }

    /// <summary>
    /// Writes the leaderboard as JSON (the metric, whether lower is better, and per configuration its rank, layer,
    /// pooling, trainer, mean, standard deviation, fold values and seconds), atomically. <c>w2v2 plot FILE --out
    /// board.png</c> draws it: the metric by layer, one line per pooling and trainer, the fold spread as error bars.
    /// </summary>
    /// <example><code>
    /// result.SaveLeaderboard("leaderboard.json");   // then: w2v2 plot leaderboard.json --out leaderboard.png
    /// </code></example>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void SaveLeaderboard(string path)
    {
        var trials = new JsonArray();
        for (int i = 0; i < Leaderboard.Count; i++)
        {
            Wav2Vec2ExperimentTrial t = Leaderboard[i];
            trials.Add(new JsonObject
            {
                ["rank"] = i + 1, ["layer"] = t.Layer, ["pooling"] = t.Pooling.ToString(), ["trainer"] = t.Trainer,
                ["mean"] = t.Mean, ["std"] = t.StandardDeviation, ["folds"] = new JsonArray([.. t.Folds.Select(f => (JsonNode)f)]),
                ["seconds"] = Math.Round(t.Duration.TotalSeconds, 3),
            });
        }
        var board = new JsonObject
        {
            ["leaderboard"] = Metric.ToString(), ["lower_is_better"] = Metric.LowerIsBetter(), ["trials"] = trials,
        };
        AtomicFile.WriteText(path, board.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The leaderboard as a Markdown table.</summary>
    /// <example><code>
    /// Console.WriteLine(result.ToString());   // | rank | layer | pooling | trainer | MacroAccuracy mean | std | time |
    /// </code></example>
    public override string ToString()
    {
        var text = new StringBuilder($"| rank | layer | pooling | trainer | {Metric} mean | std | time |\n|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < Leaderboard.Count; i++)
        {
            Wav2Vec2ExperimentTrial t = Leaderboard[i];
            text.Append(CultureInfo.InvariantCulture, $"| {i + 1} | {t.Layer} | {t.Pooling} | {t.Trainer} | {t.Mean:F4} | " +
                                                      $"{t.StandardDeviation:F4} | {t.Duration.TotalSeconds:F1} s |\n");
        }
        return text.ToString();
    }
}
