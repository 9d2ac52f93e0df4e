using Microsoft.ML.Data;
using Microsoft.ML;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.MLNet;

[TestClass]
public sealed class AudioTransformsTests : TempDirectoryTest
{
    [TestMethod]
    public void LoadAudioReadsEveryFormatRelativeToTheFolderAt16KHzMono()
    {
        var ml = new MLContext(seed: 0);
        string[] files = ["flac/speech8.wav", "flac/stereo24.flac", "compressed/cbr.mp3", "compressed/stereo44.ogg", "compressed/stereo.opus"];
        IDataView data = ml.Data.LoadFromEnumerable(files.Select(f => new ClipRow { Path = f }));
        IDataView loaded = ml.Transforms.LoadAudio("Audio", FixturePath(), "Path").Fit(data).Transform(data);
        Assert.IsInstanceOfType<VectorDataViewType>(loaded.Schema["Audio"].Type);
        Assert.AreEqual(NumberDataViewType.Single, ((VectorDataViewType)loaded.Schema["Audio"].Type).ItemType);
        var samples = MLNetTestData.Column(loaded, "Audio");
        for (int i = 0; i < files.Length; i++)
            CollectionAssert.AreEqual(AudioFile.Read(FixturePath(files[i])).ResampleTo(16000).Samples, samples[i], files[i]);
    }

    [TestMethod]
    public void FeaturesOfPathsAndOfSamplesEqualTheCoreLibrarysPooledHiddenStates()
    {
        var ml = new MLContext(seed: 0);
        List<ClipRow> rows = MLNetTestData.WriteTones(TempDirectory, classes: 2, perClass: 2, rate: 22050);
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        string modelDirectory = MLNetTestData.TinyModelDirectory(TempDirectory);
        var fromPaths = ml.Transforms.Wav2Vec2Features("Features", "Path", modelDirectory, layer: 1, audioFolder: TempDirectory);
        var fromSamples = ml.Transforms.LoadAudio("Audio", TempDirectory, "Path")
            .Append(ml.Transforms.Wav2Vec2Features("Features", "Audio", modelDirectory, layer: 1));
        Wav2Vec2FeaturesTransformer fitted = fromPaths.Fit(data);
        Assert.AreSame(fitted.Model, fromPaths.Fit(data).Model, "the model is loaded once per estimator and shared");
        var a = MLNetTestData.Column(fitted.Transform(data), "Features");
        var b = MLNetTestData.Column(fromSamples.Fit(data).Transform(data), "Features");
        var model = Wav2Vec2Model.FromPretrained(modelDirectory);
        for (int i = 0; i < rows.Count; i++)
        {
            Tensor frames = model.ExtractFeatures(AudioFile.Read(Path.Combine(TempDirectory, rows[i].Path)), layer: 1);
            float[] mean = MeanOverFrames(frames);
            AssertClose(mean, a[i], 1e-5f, $"row {i} from a path");
            CollectionAssert.AreEqual(a[i], b[i], $"row {i}: samples column equals path column");
        }
    }

    [TestMethod]
    [DataRow("hubert_stable")]
    [DataRow("wavlm_stable")]
    public void AnotherFamilysModelGivesFeaturesAsTheCoreLibraryDoes(string fixture)
    {
        var ml = new MLContext(seed: 0);
        List<ClipRow> rows = MLNetTestData.WriteTones(TempDirectory, classes: 1, perClass: 2);
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        string checkpoint = FixturePath("models", fixture);
        var features = MLNetTestData.Column(ml.Transforms.Wav2Vec2Features("Features", "Path", checkpoint, layer: 2, audioFolder: TempDirectory)
            .Fit(data).Transform(data), "Features");
        var model = Wav2Vec2Model.FromPretrained(checkpoint);
        for (int i = 0; i < rows.Count; i++)
        {
            Tensor frames = model.ExtractFeatures(AudioFile.Read(Path.Combine(TempDirectory, rows[i].Path)), layer: 2);
            float[] mean = MeanOverFrames(frames);
            AssertClose(mean, features[i], 1e-5f, $"row {i}");
        }
    }

    // The Mean pooling of Wav2Vec2Features, written out: (frames, hidden) -> hidden.
    private static float[] MeanOverFrames(Tensor frames)
    {
        var mean = new float[frames.Size(1)];
        for (int t = 0; t < frames.Size(0); t++)
            for (int h = 0; h < mean.Length; h++)
                mean[h] += frames[t, h] / frames.Size(0);
        return mean;
    }

    [TestMethod]
    public void PoolingGivesKnownSizeVectorsWithSlotNamesAndNoneGivesFramesWithTheirCount()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(MLNetTestData.WriteTones(TempDirectory, 1, 2));
        Wav2Vec2Model model = MLNetTestData.TinyModel();
        IDataView Run(Wav2Vec2Pooling pooling) => ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = model, InputColumnName = "Path", AudioFolder = TempDirectory, Pooling = pooling,
        }).Fit(data).Transform(data);

        foreach (var (pooling, size) in new[] { (Wav2Vec2Pooling.Mean, 16), (Wav2Vec2Pooling.Max, 16), (Wav2Vec2Pooling.MeanAndStd, 32) })
        {
            IDataView pooled = Run(pooling);
            var type = (VectorDataViewType)pooled.Schema["Features"].Type;
            Assert.AreEqual(size, type.Size, $"{pooling}: known size");
            VBuffer<ReadOnlyMemory<char>> names = default;
            pooled.Schema["Features"].GetSlotNames(ref names);
            Assert.AreEqual(size, names.Length, $"{pooling}: slot names");
            Assert.AreEqual(pooling == Wav2Vec2Pooling.Max ? "L2.max.0" : "L2.mean.0", names.GetValues()[0].ToString());
            if (pooling == Wav2Vec2Pooling.MeanAndStd)
                Assert.AreEqual("L2.std.15", names.GetValues()[31].ToString());
        }

        IDataView frames = Run(Wav2Vec2Pooling.None);
        Assert.IsFalse(((VectorDataViewType)frames.Schema["Features"].Type).IsKnownSize);
        int[] counts = frames.GetColumn<int>("FeaturesFrameCount").ToArray();
        var values = MLNetTestData.Column(frames, "Features");
        Assert.AreEqual(model.FrameCount(4000), counts[0], "0.25 s at 10 samples per frame");
        Assert.AreEqual(counts[0] * 16, values[0].Length);
        var mean = MLNetTestData.Column(Run(Wav2Vec2Pooling.Mean), "Features")[0];
        var maxima = MLNetTestData.Column(Run(Wav2Vec2Pooling.Max), "Features")[0];
        var meanStd = MLNetTestData.Column(Run(Wav2Vec2Pooling.MeanAndStd), "Features")[0];
        for (int h = 0; h < 16; h++)
        {
            var column = Enumerable.Range(0, counts[0]).Select(t => (double)values[0][t * 16 + h]).ToArray();
            Assert.AreEqual(column.Average(), mean[h], 1e-5, "mean");
            Assert.AreEqual(column.Max(), maxima[h], 1e-6, "max");
            Assert.AreEqual(Math.Sqrt(column.Select(v => (v - column.Average()) * (v - column.Average())).Average()), meanStd[16 + h], 1e-5, "std");
        }
    }

    [TestMethod]
    public void SeveralLayersComeFromOneForwardPassAsColumnsOrTheirAverage()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(MLNetTestData.WriteTones(TempDirectory, 2, 1));
        Wav2Vec2Model model = MLNetTestData.TinyModel();
        var options = new Wav2Vec2FeaturesOptions { Model = model, InputColumnName = "Path", AudioFolder = TempDirectory, Layers = [0, -1] };
        var separate = ml.Transforms.Wav2Vec2Features(options).Fit(data);
        CollectionAssert.AreEqual(new[] { "Features_L0", "Features_L2" }, separate.OutputColumnNames.ToArray());
        IDataView both = separate.Transform(data);
        var (layer0, layer2) = MLNetTestData.Columns(both, "Features_L0", "Features_L2") is var c ? (c[0], c[1]) : default;
        Assert.AreEqual(2, separate.Features.ClipsComputed, "one pass per clip although two layer columns were read");
        IDataView Single(int layer) => ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = model, InputColumnName = "Path", AudioFolder = TempDirectory, Layers = [layer],
        }).Fit(data).Transform(data);
        var alone0 = MLNetTestData.Column(Single(0), "Features");
        var alone2 = MLNetTestData.Column(Single(2), "Features");
        var averaged = MLNetTestData.Column(ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = model, InputColumnName = "Path", AudioFolder = TempDirectory, Layers = [0, 2], AverageLayers = true,
        }).Fit(data).Transform(data), "Features");
        for (int i = 0; i < 2; i++)
        {
            AssertClose(alone0[i], layer0[i], 1e-6f, "layer 0");
            AssertClose(alone2[i], layer2[i], 1e-6f, "layer 2");
            AssertClose(alone0[i].Zip(alone2[i], (x, y) => (x + y) / 2).ToArray(), averaged[i], 1e-5f, "average of the means");
        }
    }

    [TestMethod]
    public void TranscribeEqualsTheCoreLibrarysGreedyTranscript()
    {
        var ml = new MLContext(seed: 0);
        string directory = FixturePath("models", "stable_layer");
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new ClipRow { Path = FixturePath("reference_audio.wav") } });
        var transcribe = ml.Transforms.Wav2Vec2Transcribe("Text", "Path", directory).Fit(data);
        string text = transcribe.Transform(data).GetColumn<string>("Text").Single();
        var asr = Wav2Vec2ForCtc.FromPretrained(directory);
        Assert.AreEqual(new SpeechRecognizer(asr).Transcribe(AudioFile.Read(FixturePath("reference_audio.wav"))), text);
        Assert.IsFalse(transcribe.Decoding.UsesBeamSearch, "greedy by default");

        // An in-memory model reading the samples LoadAudio produced gives the same text.
        IDataView fromSamples = ml.Transforms.LoadAudio("Audio", inputColumnName: "Path")
            .Append(ml.Transforms.Wav2Vec2Transcribe(new Wav2Vec2TranscribeOptions { Model = asr, InputColumnName = "Audio" }))
            .Fit(data).Transform(data);
        Assert.AreEqual(text, fromSamples.GetColumn<string>("Transcript").Single());
        asr.Tokenizer = null;
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Wav2Vec2Transcribe(
            new Wav2Vec2TranscribeOptions { Model = asr, InputColumnName = "Path" }).Fit(data)).Message, "no vocabulary");
    }
}
