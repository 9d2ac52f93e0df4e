using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

namespace Wav2Vec2.Tests.MLNet;

[TestClass]
[DoNotParallelize]   // the trainers set the process-wide thread count (ThreadCount = 2) for determinism
public sealed class AudioClassificationTrainerTests : TempDirectoryTest
{
    public sealed class Prediction
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    // Three pitches, four clips each, and a random "pre-trained" model beside them.
    private (MLContext Ml, IDataView Data, string Folder, string Pretrained) Setup()
    {
        string folder = Directory.CreateDirectory(Path.Combine(TempDirectory, "clips")).FullName;
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(MLNetTestData.WriteTones(folder, 3, 4, seconds: 0.3));
        string pretrained = Path.Combine(TempDirectory, "pretrained");
        new Wav2Vec2ForPreTraining(PreTrainableConfig(), new RandomSource(5)).SavePretrained(pretrained);
        return (ml, data, folder, pretrained);
    }

    private static Wav2Vec2AudioClassificationOptions Options(string pretrained, string folder, int updates, Action<Wav2Vec2AudioClassificationOptions>? change = null)
    {
        var options = new Wav2Vec2AudioClassificationOptions
        {
            ModelDirectory = pretrained, AudioColumnName = "Path", AudioFolder = folder, MaxUpdates = updates, Seed = 7, ThreadCount = 2,
            MaxTokens = 20_000, ClassifierProjSize = 16, LogInterval = 5,
            Recipe = new TrainingOverrides { LearningRate = 2e-3f, ValidateInterval = 0, SaveInterval = 0 }.ApplyTo(new SequenceClassificationOptions
            {
                Regularization = new RegularizationOptions
                {
                    FeatureGradMult = 1f, MaskTimeProb = 0f, LayerDrop = 0f, HiddenDropout = 0f, AttentionDropout = 0f, ActivationDropout = 0f,
                },
            }),
        };
        change?.Invoke(options);
        return options;
    }

    private static EstimatorChain<KeyToValueMappingTransformer> Pipeline(MLContext ml, Wav2Vec2AudioClassificationOptions options) =>
        ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.Wav2Vec2AudioClassification(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    [TestMethod]
    public void LearnsThreePitchesAndWorksWithMulticlassEvaluateAndPredictionEngine()
    {
        var (ml, data, folder, pretrained) = Setup();
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.Source.StartsWith("Wav2Vec2AudioClassification", StringComparison.Ordinal)) log.Add(e.RawMessage); };
        var pipeline = Pipeline(ml, Options(pretrained, folder, 60));
        SchemaShape shape = pipeline.GetOutputSchema(MLNetTestData.ShapeOf(data));
        Assert.AreEqual(TextDataViewType.Instance, shape.Single(c => c.Name == "PredictedLabel").ItemType, "the schema propagates through MapKeyToValue");

        var model = pipeline.Fit(data);
        MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
        Assert.AreEqual(1.0, metrics.MacroAccuracy, "training accuracy after 60 updates; log:\n" + string.Join("\n", log));
        Assert.AreEqual(0.17, metrics.LogLoss, 0.08, "the seeded log-loss (0.1695 on a Zen 5, 2 threads)");
        Assert.IsTrue(log.Any(l => l.StartsWith("update 60/60 loss", StringComparison.Ordinal)), string.Join("\n", log));
        Assert.IsTrue(log.Any(l => l.Contains("head over 3 classes: class0, class1, class2")), string.Join("\n", log));

        var classifier = model.OfType<Wav2Vec2AudioClassificationTransformer>().Single();
        CollectionAssert.AreEqual(new[] { "class0", "class1", "class2" }, classifier.Classes.ToArray());
        var engine = ml.Model.CreatePredictionEngine<ClipRow, Prediction>(model);
        Prediction prediction = engine.Predict(new ClipRow { Path = "c2_1.wav" });
        Assert.AreEqual("class2", prediction.PredictedLabel);
        Assert.AreEqual(3, prediction.Score.Length);
        Assert.AreEqual(1.0, prediction.Score.Sum(), 1e-5, "scores are probabilities");
    }

    [TestMethod]
    public void TheClassifierRoundTripsThroughTheZipAsAHuggingFaceDirectoryAndTheSameSeedGivesTheSameModel()
    {
        var (ml, data, folder, pretrained) = Setup();
        var model = Pipeline(ml, Options(pretrained, folder, 6)).Fit(data);
        var again = Pipeline(ml, Options(pretrained, folder, 6)).Fit(data);
        float[] Weights(ITransformer chain) => ((IEnumerable<ITransformer>)chain).OfType<Wav2Vec2AudioClassificationTransformer>().Single()
            .Model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        CollectionAssert.AreEqual(Weights(model), Weights(again), "deterministic for a fixed seed and thread count");

        string path = Path.Combine(TempDirectory, "classifier.zip");
        ml.Model.SaveWav2Vec2(model, data.Schema, path);
        using (var zip = System.IO.Compression.ZipFile.OpenRead(path))
        {
            string config = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith("model/config.json", StringComparison.Ordinal)).Open()).ReadToEnd();
            StringAssert.Contains(config, "\"Wav2Vec2ForSequenceClassification\"");
            StringAssert.Contains(config, "\"2\": \"class2\"");
        }
        ITransformer loaded = new MLContext(seed: 1).Model.LoadWav2Vec2(path, out DataViewSchema inputSchema);
        IDataView before = model.Transform(data), after = loaded.Transform(data);
        CollectionAssert.AreEqual(before.GetColumn<string>("PredictedLabel").ToArray(), after.GetColumn<string>("PredictedLabel").ToArray());
        var scoresBefore = MLNetTestData.Column(before, "Score");
        var scoresAfter = MLNetTestData.Column(after, "Score");
        for (int i = 0; i < scoresBefore.Count; i++)
            CollectionAssert.AreEqual(scoresBefore[i], scoresAfter[i], $"row {i}: exactly the same scores");
        var metrics = ml.MulticlassClassification.Evaluate(after);
        Assert.AreEqual(12, metrics.ConfusionMatrix.Counts.Sum(row => row.Sum()));
        var engine = ml.Model.CreatePredictionEngine<ClipRow, Prediction>(loaded, inputSchema: inputSchema);
        Assert.AreEqual(scoresBefore[5][0], engine.Predict(new ClipRow { Path = "c1_1.wav" }).Score[0]);
    }

    [TestMethod]
    public void AFrozenBackboneStaysAsLoadedWhileTheHeadAndLayerWeightsTrain()
    {
        var (ml, data, folder, pretrained) = Setup();
        var model = Pipeline(ml, Options(pretrained, folder, 5, o => (o.FreezeBackbone, o.UseWeightedLayerSum) = (true, true))).Fit(data);
        var classifier = ((IEnumerable<ITransformer>)model).OfType<Wav2Vec2AudioClassificationTransformer>().Single();
        // The backbone as stored (without the mask embedding, which a run without time masks does not build).
        var original = Wav2Vec2Model.FromPretrained(pretrained, strict: false, out _).NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.ToArray());
        foreach (var (name, parameter) in classifier.Model.Backbone.NamedParameters())
            CollectionAssert.AreEqual(original[name], parameter.ToArray(), $"{name} did not train");
        float[] layerWeights = classifier.Model.NamedParameters().Single(p => p.Name == "layer_weights").Parameter.ToArray();
        Assert.AreEqual(3, layerWeights.Length);
        Assert.IsTrue(layerWeights.Any(w => Math.Abs(w - 1f / 3) > 1e-4), "the layer weights trained");
        Assert.IsTrue(classifier.Model.Config.UseWeightedLayerSum);
    }

    [TestMethod]
    public void CancellationKeepsTheLastCheckpointAndSchemaErrorsNameTheColumn()
    {
        var (ml, data, folder, pretrained) = Setup();
        string run = Path.Combine(TempDirectory, "run");
        using var stop = new CancellationTokenSource();
        ml.Log += (_, e) => { if (e.RawMessage.StartsWith("update 2/", StringComparison.Ordinal)) stop.Cancel(); };
        var cancelled = Options(pretrained, folder, 8, o => (o.OutputDirectory, o.CancellationToken, o.LogInterval) = (run, stop.Token, 1));
        StringAssert.Contains(Assert.ThrowsExactly<OperationCanceledException>(() => Pipeline(ml, cancelled).Fit(data)).Message,
            "Wav2Vec2AudioClassification: cancelled after update 2 of 8");
        StringAssert.Contains(File.ReadAllText(Path.Combine(run, "checkpoint-2", "config.json")), "Wav2Vec2ForSequenceClassification");

        var trainer = ml.MulticlassClassification.Trainers.Wav2Vec2AudioClassification(Options(pretrained, folder, 1));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(data)).Message,
            "Wav2Vec2AudioClassification: schema mismatch for input column 'Label': expected a key of UInt32 with at least two values " +
            "(MapValueToKey makes one), got String");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(MLNetTestData.ShapeOf(data))).Message,
            "schema mismatch for input column 'Label'");
        var noLabel = ml.MulticlassClassification.Trainers.Wav2Vec2AudioClassification(Options(pretrained, folder, 1, o => o.LabelColumnName = "Class"));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => noLabel.Fit(data)).Message, "could not find input column 'Class'");
        var noAudio = ml.MulticlassClassification.Trainers.Wav2Vec2AudioClassification(Options(pretrained, folder, 1, o => o.AudioColumnName = "Audio"));
        IDataView keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => noAudio.Fit(keyed)).Message, "could not find input column 'Audio'");
    }

    [TestMethod]
    public void AModelPreTrainedInThePipelineFineTunesIntoAClassifier()
    {
        var (ml, data, folder, _) = Setup();
        Wav2Vec2FeaturesTransformer preTrained = ml.Transforms.Wav2Vec2PreTrain(new Wav2Vec2PreTrainingOptions
        {
            Config = PreTrainableConfig(), AudioColumnName = "Path", AudioFolder = folder, Seed = 7, ThreadCount = 2,
            Recipe = new TrainingOverrides { MaxUpdates = 3, WarmupUpdates = 1, LearningRate = 2e-3f }.ApplyTo(new PreTrainingOptions
            {
                NumNegatives = 10, Normalize = true,
                Batching = new Wav2Vec2.Data.BatchingOptions { MinSampleSize = 4000, MaxSampleSize = 4800, MaxTokens = 20_000 },
            }),
        }).Fit(data);
        var model = Pipeline(ml, Options("unused", folder, 3, o => (o.ModelDirectory, o.Model) = (null, preTrained.Model))).Fit(data);
        Assert.AreEqual(12, model.Transform(data).GetColumn<string>("PredictedLabel").Count());
    }
}
