using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.Data;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Threading;
using Wav2Vec2.Training;

namespace Wav2Vec2.Tests.MLNet;

[TestClass]
[DoNotParallelize]   // training runs use every core; timing-sensitive with other tests
public sealed class PreTrainingEstimatorTests : TempDirectoryTest
{
    // The three speech-like fixture clips (1 s each) as rows of paths relative to a clips folder.
    private (MLContext Ml, IDataView Data, string Folder) Setup()
    {
        string folder = Directory.CreateDirectory(Path.Combine(TempDirectory, "clips")).FullName;
        string[] files = ["speech16.flac", "stereo24.flac", "speech8.wav"];
        foreach (string file in files)
            File.Copy(FixturePath("flac", file), Path.Combine(folder, file));
        var ml = new MLContext(seed: 0);
        return (ml, ml.Data.LoadFromEnumerable(files.Select(f => new ClipRow { Path = f }).ToList()), folder);
    }

    // The pre-training test recipe (no dropout, 20 distractors, crops of 1 s) on the 2-layer test architecture.
    private static Wav2Vec2PreTrainingOptions Options(string folder, int updates, string? run = null, Action<Wav2Vec2PreTrainingOptions>? change = null)
    {
        var options = new Wav2Vec2PreTrainingOptions
        {
        Config = PreTrainableConfig(), AudioColumnName = "Path", AudioFolder = folder, OutputDirectory = run, Seed = 7, ThreadCount = 2,
        Recipe = new TrainingOverrides { MaxUpdates = updates, LearningRate = 2e-3f, WarmupUpdates = 1, LogInterval = 1, SaveInterval = 2 }
            .ApplyTo(new PreTrainingOptions
            {
                Normalize = true, NumNegatives = 20,
                Regularization = new PreTrainingOptions().Regularization with
                {
                    HiddenDropout = 0, AttentionDropout = 0, FeatProjDropout = 0, FeatQuantizerDropout = 0, LayerDrop = 0,
                },
                Batching = new BatchingOptions { MinSampleSize = 8000, MaxSampleSize = 16000, MaxTokens = 16000 },
            }),
        };
        change?.Invoke(options);
        return options;
    }

    private sealed class NumberRow
    {
        public float Path { get; set; }
    }

    [TestMethod]
    public void FitPreTrainsAndReturnsTheFeaturesTransformerOfThePreTrainedModel()
    {
        var (ml, data, folder) = Setup();
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.Source.StartsWith("Wav2Vec2PreTrain", StringComparison.Ordinal)) log.Add(e.RawMessage); };
        string run = Path.Combine(TempDirectory, "run");
        var estimator = ml.Transforms.Wav2Vec2PreTrain(Options(folder, 4, run, o => (o.Layers, o.Pooling) = ([1], Wav2Vec2Pooling.MeanAndStd)));
        SchemaShape shape = estimator.GetOutputSchema(MLNetTestData.ShapeOf(data));
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Features").Kind);

        Wav2Vec2FeaturesTransformer features = estimator.Fit(data);
        CollectionAssert.AreEqual(new[] { 1 }, features.Layers.ToArray());
        Assert.AreEqual(128, ((VectorDataViewType)features.GetOutputSchema(data.Schema)["Features"].Type).Size, "mean and std of 64 channels");
        Assert.AreEqual(3, MLNetTestData.Column(features.Transform(data), "Features").Count);
        Assert.IsTrue(log.Any(l => l.StartsWith("update 4/4 loss", StringComparison.Ordinal)), "per-update metrics in mlContext.Log:\n" + string.Join("\n", log));
        Assert.IsTrue(log.Any(l => l.Contains("3 recordings")), string.Join("\n", log));
        Assert.IsTrue(File.Exists(Path.Combine(run, "final", "model.safetensors")), "the run directory keeps final/");
        Assert.AreEqual(4, File.ReadAllLines(Path.Combine(run, "train_log.jsonl")).Length);

        // ML.NET's progress channel got a checkpoint per logged update: loss, learning rate, gradient norm, updates of 4.
        var checkpoints = MLNetTestData.ProgressCheckpoints(ml, "Wav2Vec2PreTrain");
        Assert.AreEqual(4, checkpoints.Count);
        Assert.AreEqual((4.0, 4.0), (checkpoints[^1].Progress, checkpoints[^1].Limit));
        Assert.IsTrue(checkpoints.All(c => c.Metrics.Length == 3 && c.Metrics.All(m => m is double v && double.IsFinite(v))));

        // The returned backbone is the trained one: its weights are those of final/.
        var final = Wav2Vec2Model.FromPretrained(Path.Combine(run, "final"), strict: false, out _);
        CollectionAssert.AreEqual(final.Parameters().SelectMany(p => p.ToArray()).ToArray(),
            features.Model.Parameters().SelectMany(p => p.ToArray()).ToArray());
    }

    [TestMethod]
    public void TheSameSeedAndThreadCountGiveTheSameModelAndTheModelRoundTripsThroughTheZip()
    {
        var (ml, data, folder) = Setup();
        Wav2Vec2FeaturesTransformer first = ml.Transforms.Wav2Vec2PreTrain(Options(folder, 3)).Fit(data);
        Wav2Vec2FeaturesTransformer second = ml.Transforms.Wav2Vec2PreTrain(Options(folder, 3)).Fit(data);
        float[] Weights(Wav2Vec2FeaturesTransformer t) => t.Model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        CollectionAssert.AreEqual(Weights(first), Weights(second), "deterministic for a fixed seed and thread count");
        CollectionAssert.AreNotEqual(Weights(first), Weights(ml.Transforms.Wav2Vec2PreTrain(Options(folder, 3, change: o => o.Seed = 8)).Fit(data)));

        string path = Path.Combine(TempDirectory, "features.zip");
        ml.Model.SaveWav2Vec2(first, data.Schema, path);
        ITransformer loaded = new MLContext(seed: 1).Model.LoadWav2Vec2(path, out _);
        var before = MLNetTestData.Column(first.Transform(data), "Features");
        var after = MLNetTestData.Column(loaded.Transform(data), "Features");
        for (int i = 0; i < before.Count; i++)
            CollectionAssert.AreEqual(before[i], after[i], $"row {i}: the trained weights are in the zip");
    }

    [TestMethod]
    public void ASeededRunIsBitIdenticalWhateverElseRunsInTheProcess()
    {
        var (ml, data, folder) = Setup();
        float[] Weights(Wav2Vec2FeaturesTransformer t) => t.Model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        int processDegree = Parallelism.DegreeOfParallelism;
        float[] alone = Weights(ml.Transforms.Wav2Vec2PreTrain(Options(folder, 3)).Fit(data));
        float[] oneThread = Weights(ml.Transforms.Wav2Vec2PreTrain(Options(folder, 3, change: o => o.ThreadCount = 1)).Fit(data));
        CollectionAssert.AreNotEqual(alone, oneThread, "the thread count changes the reduction order, so a race would show");

        // A one-thread features pipeline runs over and over on another thread while the two-thread pre-training runs.
        IDataView features = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = MLNetTestData.TinyModel(), InputColumnName = "Path", AudioFolder = folder, ThreadCount = 1,
        }).Fit(data).Transform(data);
        var expected = MLNetTestData.Column(features, "Features");
        using var stop = new CancellationTokenSource();
        int passes = 0;
        Task other = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var values = MLNetTestData.Column(features, "Features");
                for (int i = 0; i < values.Count; i++)
                    CollectionAssert.AreEqual(expected[i], values[i], $"features row {i} during the training");
                passes++;
            }
        });
        float[] concurrent = Weights(ml.Transforms.Wav2Vec2PreTrain(Options(folder, 3)).Fit(data));
        stop.Cancel();
        other.Wait();
        Assert.IsGreaterThan(0, passes, "the other pipeline ran during the training");
        CollectionAssert.AreEqual(alone, concurrent, "seeded two-thread training beside a one-thread pipeline");
        Assert.AreEqual(processDegree, Parallelism.DegreeOfParallelism, "the process default is untouched");
    }

    [TestMethod]
    public void CancellationSavesTheLastUpdateAndResumingFinishesTheRunExactly()
    {
        var (ml, data, folder) = Setup();
        string run = Path.Combine(TempDirectory, "run");
        using var stop = new CancellationTokenSource();
        ml.Log += (_, e) => { if (e.RawMessage.StartsWith("update 2/", StringComparison.Ordinal)) stop.Cancel(); };
        var cancelled = Assert.ThrowsExactly<OperationCanceledException>(() =>
            ml.Transforms.Wav2Vec2PreTrain(Options(folder, 5, run, o => o.CancellationToken = stop.Token)).Fit(data));
        StringAssert.Contains(cancelled.Message, "cancelled after update 2 of 5");
        StringAssert.Contains(cancelled.Message, $"{Path.Combine(run, "checkpoint-2")} holds it (Fit again with OutputDirectory = \"{run}\" and ResumeFromCheckpoint = true");
        Assert.IsTrue(File.Exists(Path.Combine(run, "checkpoint-2", "trainer_state.json")), "the last update is a complete checkpoint");
        Assert.IsFalse(Directory.Exists(Path.Combine(run, "final")));

        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.Wav2Vec2PreTrain(Options(folder, 5, run)).Fit(data)).Message,
            "already holds checkpoints (the newest is checkpoint-2): resume the run to continue it, or choose another run directory (set ResumeFromCheckpoint");
        Wav2Vec2FeaturesTransformer resumed = ml.Transforms.Wav2Vec2PreTrain(Options(folder, 5, run, o => o.ResumeFromCheckpoint = true)).Fit(data);
        Wav2Vec2FeaturesTransformer straight = new MLContext(seed: 0).Transforms.Wav2Vec2PreTrain(Options(folder, 5)).Fit(data);
        CollectionAssert.AreEqual(straight.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(),
            resumed.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(), "5 updates == 2, cancel, resume, 3");

        // A temporary run directory is kept (and named) when cancelled, deleted when a model is returned.
        using var early = new CancellationTokenSource();
        early.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => ml.Transforms.Wav2Vec2PreTrain(Options(folder, 5, change: o => o.CancellationToken = early.Token)).Fit(data));
    }

    [TestMethod]
    public void ValidationRowsAreValidatedAndSchemaErrorsNameTheColumn()
    {
        var (ml, data, folder) = Setup();
        string run = Path.Combine(TempDirectory, "run");
        var options = Options(folder, 2, run, o => (o.ValidationData, o.Recipe) = (data, o.Recipe! with { Run = o.Recipe.Run with { ValidateInterval = 1 } }));
        ml.Transforms.Wav2Vec2PreTrain(options).Fit(data);
        Assert.AreEqual(2, File.ReadAllLines(Path.Combine(run, "train_log.jsonl")).Count(l => l.Contains("\"split\":\"valid\"")));

        var missing = ml.Transforms.Wav2Vec2PreTrain(Options(folder, 2, change: o => o.AudioColumnName = "Audio"));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => missing.Fit(data)).Message,
            "Wav2Vec2PreTrain: could not find input column 'Audio'");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => missing.GetOutputSchema(MLNetTestData.ShapeOf(data))).Message,
            "could not find input column 'Audio'");
        IDataView numbers = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Path = 1f } });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Wav2Vec2PreTrain(Options(folder, 2)).Fit(numbers)).Message,
            "Wav2Vec2PreTrain: schema mismatch for input column 'Path': expected Text (an audio file path) or a vector of Single (16 kHz mono samples), got Single");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Wav2Vec2PreTrain(new Wav2Vec2PreTrainingOptions())).Message,
            "set Preset, Config, ModelDirectory or Model");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Wav2Vec2PreTrain(Options(folder, 2, change: o => o.Layers = [5])));
    }
}
