using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.MLNet;

[TestClass]
public sealed class ExperimentTests : TempDirectoryTest
{
    public sealed class SamplesRow
    {
        public float[] Audio { get; set; } = [];
        public string Label { get; set; } = "";
    }

    // The tiny model with BASE's conv layout (320 samples per frame), so that 3 s clips are 149 frames.
    private static Wav2Vec2Model BaseShapedTinyModel()
    {
        Wav2Vec2Config config = TinyConfig();
        config.ConvDim = [16, 16, 16, 16, 16, 16, 16];
        config.ConvKernel = [10, 3, 3, 3, 3, 2, 2];
        config.ConvStride = [5, 2, 2, 2, 2, 2, 2];
        var model = new Wav2Vec2Model(config, new RandomSource(5));
        model.Train(false);
        return model;
    }

    private static IEnumerable<SamplesRow> Tones(int classes, int perClass, double seconds)
    {
        var random = new Random(3);
        for (int i = 0; i < perClass; i++)
            for (int c = 0; c < classes; c++)
                yield return new SamplesRow
                {
                    Audio = MLNetTestData.Tone(150 * (c + 1) * (1 + 0.02 * i), seconds, 16000, random).Samples, Label = $"tone{c}",
                };
    }

    [TestMethod]
    public void ASweepCostsOneForwardPassPerClipWhateverTheTrainersAndFolds()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Tones(classes: 4, perClass: 25, seconds: 3).ToList());
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.Source.Contains("Wav2Vec2Experiment")) lock (log) log.Add(e.Message); };
        var result = new Wav2Vec2Experiment(ml, new Wav2Vec2ExperimentOptions
        {
            Model = BaseShapedTinyModel(), Poolings = [Wav2Vec2Pooling.Mean, Wav2Vec2Pooling.MeanAndStd, Wav2Vec2Pooling.Max],
            NumberOfFolds = 3, BatchSize = 4,
            Trainers = [Wav2Vec2ExperimentTrainer.LbfgsMaximumEntropy,
                new("Sdca10", m => m.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 10))],
        }).Execute(data);
        Assert.AreEqual(100, result.ClipsExtracted, "100 clips, 3 layers x 3 poolings x 2 trainers x 3 folds: one pass each");
        Assert.AreEqual(18, result.Leaderboard.Count);
        Assert.IsTrue(result.Completed);
        Assert.IsTrue(result.Leaderboard.Zip(result.Leaderboard.Skip(1)).All(p => p.First.Mean >= p.Second.Mean), "best first");
        Assert.AreEqual(3, result.Best.Folds.Count);
        Assert.AreEqual(0.71, result.Best.Mean, 0.05, $"the seeded best cross-validated macro accuracy (0.713 on a Zen 5): {result}");
        Assert.IsTrue(log.Any(m => m.Contains("18/18: layer")), string.Join("\n", log));
        Assert.IsTrue(log.Any(m => m.Contains("best: layer")), string.Join("\n", log));
        StringAssert.Contains(result.ToString(), "| 1 | ");

        // The refitted model reads the audio column itself; its predictions match the labels it was trained on.
        IDataView predictions = result.Model.Transform(data);
        var metrics = ml.MulticlassClassification.Evaluate(predictions);
        Assert.AreEqual(0.82, metrics.MacroAccuracy, 0.05, "the seeded refit macro accuracy on its training rows");
        Assert.AreEqual(100, result.ClipsExtracted, "the refit reused the cached features");
    }

    [TestMethod]
    public void TheBestModelSavesAndLoadsAndTheBudgetsAndCancellationHold()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Tones(classes: 2, perClass: 6, seconds: 0.5).ToList());
        var options = new Wav2Vec2ExperimentOptions
        {
            Model = BaseShapedTinyModel(), Layers = [-1, 1], Trainers = [Wav2Vec2ExperimentTrainer.LbfgsMaximumEntropy],
            NumberOfFolds = 2, MemoryBudgetBytes = 1, CacheDirectory = TempDirectory, Metric = Wav2Vec2ExperimentMetric.LogLoss,
        };
        Wav2Vec2ExperimentResult result = new Wav2Vec2Experiment(ml, options).Execute(data);
        Assert.AreEqual(4, result.Leaderboard.Count);
        Assert.IsTrue(result.Leaderboard.Zip(result.Leaderboard.Skip(1)).All(p => p.First.Mean <= p.Second.Mean), "log-loss: lowest first");
        Assert.AreEqual(0, Directory.GetFiles(TempDirectory, "*.idv").Length, "the on-disk cache is deleted");
        string path = Path.Combine(TempDirectory, "best.zip");
        ml.Model.SaveWav2Vec2(result.Model, data.Schema, path);
        ITransformer loaded = ml.Model.LoadWav2Vec2(path, out _);
        CollectionAssert.AreEqual(result.Model.Transform(data).GetColumn<string>("PredictedLabel").ToArray(),
            loaded.Transform(data).GetColumn<string>("PredictedLabel").ToArray());

        options.TimeBudget = TimeSpan.Zero;
        Wav2Vec2ExperimentResult hurried = new Wav2Vec2Experiment(ml, options).Execute(data);
        Assert.AreEqual(1, hurried.Leaderboard.Count, "one configuration runs, then the budget stops the sweep");
        Assert.IsFalse(hurried.Completed);

        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        options.CancellationToken = cancel.Token;
        Assert.ThrowsExactly<OperationCanceledException>(() => new Wav2Vec2Experiment(ml, options).Execute(data));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new Wav2Vec2Experiment(ml,
            new Wav2Vec2ExperimentOptions { Model = BaseShapedTinyModel(), Poolings = [Wav2Vec2Pooling.None] })).Message, "known-size");
    }
}
