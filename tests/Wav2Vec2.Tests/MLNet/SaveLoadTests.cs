using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.MLNet;

namespace Wav2Vec2.Tests.MLNet;

[TestClass]
public sealed class SaveLoadTests : TempDirectoryTest
{
    public sealed class Prediction
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    private (MLContext Ml, IDataView Data, ITransformer Model) TrainClassifier(out string audioFolder)
    {
        var ml = new MLContext(seed: 0);
        audioFolder = Path.Combine(TempDirectory, "clips");
        Directory.CreateDirectory(audioFolder);
        IDataView data = ml.Data.LoadFromEnumerable(MLNetTestData.WriteTones(audioFolder, 3, 4));
        var pipeline = ml.Transforms.LoadAudio("Audio", audioFolder, "Path")
            .Append(ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
            {
                Model = MLNetTestData.TinyModel(), InputColumnName = "Audio", Layers = [1, 2], AverageLayers = true,
                Pooling = Wav2Vec2Pooling.MeanAndStd,
            }))
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .AppendCacheCheckpoint(ml)
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 20))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        return (ml, data, pipeline.Fit(data));
    }

    [TestMethod]
    public void APipelineRoundTripsThroughOneZipAndPredictsExactlyTheSame()
    {
        var (ml, data, model) = TrainClassifier(out _);
        string path = Path.Combine(TempDirectory, "model.zip");
        ml.Model.SaveWav2Vec2(model, data.Schema, path);
        Assert.IsFalse(File.Exists(path + ".tmp"));

        var fresh = new MLContext(seed: 1);
        ITransformer loaded = fresh.Model.LoadWav2Vec2(path, out DataViewSchema inputSchema);
        CollectionAssert.AreEqual(data.Schema.Select(c => c.Name).ToArray(), inputSchema.Select(c => c.Name).ToArray());
        IDataView before = model.Transform(data), after = loaded.Transform(data);
        CollectionAssert.AreEqual(before.GetColumn<string>("PredictedLabel").ToArray(), after.GetColumn<string>("PredictedLabel").ToArray());
        var scoresBefore = MLNetTestData.Column(before, "Score");
        var scoresAfter = MLNetTestData.Column(after, "Score");
        for (int i = 0; i < scoresBefore.Count; i++)
            CollectionAssert.AreEqual(scoresBefore[i], scoresAfter[i], $"row {i}: scores are equal exactly");

        using (var stream = new MemoryStream())
        {
            ml.Model.SaveWav2Vec2(model, data.Schema, stream);
            stream.Position = 0;
            ITransformer fromStream = fresh.Model.LoadWav2Vec2(stream, out _);
            CollectionAssert.AreEqual(scoresBefore[0], MLNetTestData.Column(fromStream.Transform(data), "Score")[0], "through a stream");
        }
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() =>
            fresh.Model.LoadWav2Vec2(new MemoryStream(EmptyZip()), out _)).Message,
            "not a Wav2Vec2.MLNet model file");

        var metrics = fresh.MulticlassClassification.Evaluate(loaded.Transform(data));
        Assert.AreEqual(1.0, metrics.MacroAccuracy, "the loaded classifier classifies the tones it was trained on");
    }

    private static byte[] EmptyZip()
    {
        using var buffer = new MemoryStream();
        using (new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
        }
        return buffer.ToArray();
    }

    [TestMethod]
    public void PlainModelSaveFailsNamingSaveWav2Vec2AndLoadWav2Vec2()
    {
        var (ml, data, model) = TrainClassifier(out _);
        var error = Assert.Throws<Exception>(() => ml.Model.Save(model, data.Schema, Path.Combine(TempDirectory, "plain.zip")));
        string message = error.ToString();
        StringAssert.Contains(message, "mlContext.Model.SaveWav2Vec2(model, inputSchema, path)");
        StringAssert.Contains(message, "mlContext.Model.LoadWav2Vec2(path, out inputSchema)");
    }

    [TestMethod]
    public void PredictionEngineWorksOnTheOriginalAndTheLoadedPipeline()
    {
        var (ml, data, model) = TrainClassifier(out string folder);
        string path = Path.Combine(TempDirectory, "model.zip");
        ml.Model.SaveWav2Vec2(model, data.Schema, path);
        ITransformer loaded = ml.Model.LoadWav2Vec2(path, out _);
        var original = ml.Model.CreatePredictionEngine<ClipRow, Prediction>(model);
        var reloaded = ml.Model.CreatePredictionEngine<ClipRow, Prediction>(loaded);
        foreach (string file in new[] { "c0_1.wav", "c2_3.wav", "c1_0.wav" })
        {
            Prediction a = original.Predict(new ClipRow { Path = file });
            Prediction b = reloaded.Predict(new ClipRow { Path = file });
            Assert.AreEqual(a.PredictedLabel, b.PredictedLabel, file);
            CollectionAssert.AreEqual(a.Score, b.Score, file);
            Assert.AreEqual(3, a.Score.Length);
        }
        var bad = Assert.ThrowsExactly<InvalidDataException>(() => original.Predict(new ClipRow { Path = "absent.wav" }));
        StringAssert.Contains(bad.Message, Path.Combine(folder, "absent.wav"));
    }

    [TestMethod]
    public void TranscriptionAndFeatureTransformersRoundTripWithTheirWeightsAndVocabulary()
    {
        var ml = new MLContext(seed: 0);
        string directory = FixturePath("models", "stable_layer");
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new ClipRow { Path = FixturePath("reference_audio.wav") } });
        ITransformer model = ml.Transforms.Wav2Vec2Transcribe(new Wav2Vec2TranscribeOptions
            {
                ModelDirectory = directory, InputColumnName = "Path", OutputColumnName = "Text", BatchSize = 2,
            })
            .Append(ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
            {
                ModelDirectory = directory, InputColumnName = "Path", Layers = [0, 1], Pooling = Wav2Vec2Pooling.None,
                FrameCountColumnName = "Frames",
            }))
            .Fit(data);
        string path = Path.Combine(TempDirectory, "asr.zip");
        ml.Model.SaveWav2Vec2(model, data.Schema, path);
        ITransformer loaded = ml.Model.LoadWav2Vec2(path, out _);
        IDataView before = model.Transform(data), after = loaded.Transform(data);
        Assert.AreEqual(before.GetColumn<string>("Text").Single(), after.GetColumn<string>("Text").Single());
        Assert.AreEqual(before.GetColumn<int>("Frames").Single(), after.GetColumn<int>("Frames").Single());
        CollectionAssert.AreEqual(MLNetTestData.Column(before, "Features_L1")[0], MLNetTestData.Column(after, "Features_L1")[0]);
        var transcriber = ((TransformerChain<ITransformer>)loaded).OfType<Wav2Vec2TranscribeTransformer>().Single();
        Assert.IsFalse(transcriber.Decoding.UsesBeamSearch, "greedy by default");
        Assert.AreEqual(2, transcriber.Transcriber.Input.BatchSize);
    }

    [TestMethod]
    public void AnInt8FeatureTransformStaysInt8AfterSavingAndLoading()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new ClipRow { Path = ExamplesPath("data", "speech.wav") } });
        Wav2Vec2FeaturesOptions Options(Wav2Vec2.Nn.Precision precision) => new()
        {
            ModelDirectory = ExamplesPath("models", "tiny-en"), InputColumnName = "Path", Precision = precision,
        };
        ITransformer fp32 = ml.Transforms.Wav2Vec2Features(Options(Wav2Vec2.Nn.Precision.Float32)).Fit(data);
        ITransformer int8 = ml.Transforms.Wav2Vec2Features(Options(Wav2Vec2.Nn.Precision.Int8)).Fit(data);
        float[] expected = MLNetTestData.Column(fp32.Transform(data), "Features")[0], quantised = MLNetTestData.Column(int8.Transform(data), "Features")[0];
        CollectionAssert.AreNotEqual(expected, quantised, "int8 ran");
        TestSupport.AssertClose(expected, quantised, 0.05f, "int8 mean features");

        string path = Path.Combine(TempDirectory, "int8.zip");
        ml.Model.SaveWav2Vec2(int8, data.Schema, path);
        ITransformer loaded = ml.Model.LoadWav2Vec2(path, out _);
        CollectionAssert.AreEqual(quantised, MLNetTestData.Column(loaded.Transform(data), "Features")[0], "the loaded transform runs int8");
    }

    [TestMethod]
    public void AFeatureTransformOfAnInt8DirectoryRunsInt8WithoutBeingAskedAndSavesTheSmallModel()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new ClipRow { Path = ExamplesPath("data", "speech.wav") } });
        string directory = Path.Combine(TempDirectory, "int8-model");
        Wav2Vec2.Models.Wav2Vec2ForCtc.FromPretrained(ExamplesPath("models", "tiny-en")).SavePretrained(directory, Wav2Vec2.Nn.Precision.Int8);
        ITransformer int8 = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions { ModelDirectory = directory, InputColumnName = "Path" }).Fit(data);
        float[] features = MLNetTestData.Column(int8.Transform(data), "Features")[0];
        Assert.IsTrue(((Wav2Vec2FeaturesTransformer)int8).Model.HeldPrecision == Wav2Vec2.Nn.Precision.Int8 || !Wav2Vec2.Kernels.Int8Gemm.Accelerated);

        string path = Path.Combine(TempDirectory, "int8.zip");
        ml.Model.SaveWav2Vec2(int8, data.Schema, path);
        ITransformer loaded = ml.Model.LoadWav2Vec2(path, out _);
        CollectionAssert.AreEqual(features, MLNetTestData.Column(loaded.Transform(data), "Features")[0], "the archive holds the int8 model");
        Assert.ThrowsExactly<Wav2Vec2.Nn.HeldWeightsException>(() => ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            ModelDirectory = directory, InputColumnName = "Path", Precision = Wav2Vec2.Nn.Precision.Float32,
        }).Fit(data));
    }
}
