using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.MLNet;

namespace Wav2Vec2.Tests.MLNet;

[TestClass]
public sealed class BadAudioTests : TempDirectoryTest
{
    private List<ClipRow> RowsWithBadOnes()
    {
        List<ClipRow> rows = MLNetTestData.WriteTones(TempDirectory, 1, 3);
        File.WriteAllText(Path.Combine(TempDirectory, "corrupt.wav"), "not audio");
        File.WriteAllBytes(Path.Combine(TempDirectory, "short.wav"),
            WavWriter.Encode(new AudioClip(new float[5], 16000)));
        rows.Insert(1, new ClipRow { Path = "corrupt.wav", Label = "bad" });
        rows.Insert(3, new ClipRow { Path = "short.wav", Label = "bad" });
        rows.Add(new ClipRow { Path = "absent.wav", Label = "bad" });
        return rows;
    }

    [TestMethod]
    public void ABadRowFailsWithTheTransformTheRowAndTheFileNamed()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(RowsWithBadOnes());
        IDataView features = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = MLNetTestData.TinyModel(), InputColumnName = "Path", AudioFolder = TempDirectory,
        }).Fit(data).Transform(data);
        var corrupt = Assert.ThrowsExactly<InvalidDataException>(() => MLNetTestData.Column(features, "Features"));
        StringAssert.StartsWith(corrupt.Message, $"Wav2Vec2Features: row 1: {Path.Combine(TempDirectory, "corrupt.wav")}: ");

        IDataView skipFirst = ml.Data.SkipRows(data, 2);
        IDataView rest = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = MLNetTestData.TinyModel(), InputColumnName = "Path", AudioFolder = TempDirectory,
        }).Fit(skipFirst).Transform(skipFirst);
        var tooShort = Assert.ThrowsExactly<InvalidDataException>(() => MLNetTestData.Column(rest, "Features"));
        Assert.AreEqual($"Wav2Vec2Features: row 1: {Path.Combine(TempDirectory, "short.wav")}: 5 samples at 16000 Hz are too short " +
                        "for the model (it needs at least 20)", tooShort.Message);

        IDataView loaded = ml.Transforms.LoadAudio("Audio", TempDirectory, "Path").Fit(data).Transform(data);
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidDataException>(() => MLNetTestData.Column(loaded, "Audio")).Message,
            "LoadAudio: row 1: ");

        // Samples that LoadAudio read: the transform reading them names the file as well as the row.
        IDataView readable = ml.Data.LoadFromEnumerable(RowsWithBadOnes().Where(r => r.Path is not ("corrupt.wav" or "absent.wav")));
        IDataView chained = ml.Transforms.LoadAudio("Audio", TempDirectory, "Path")
            .Append(ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions { Model = MLNetTestData.TinyModel(), InputColumnName = "Audio" }))
            .Fit(readable).Transform(readable);
        Assert.AreEqual("Wav2Vec2Features: row 2: short.wav: 5 samples at 16000 Hz are too short for the model (it needs at least 20)",
            Assert.ThrowsExactly<InvalidDataException>(() => MLNetTestData.Column(chained, "Features")).Message);
    }

    [TestMethod]
    public void SkippingLeavesBadRowsOutOfEveryCursorAndCountsThem()
    {
        var ml = new MLContext(seed: 0);
        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
        IDataView data = ml.Data.LoadFromEnumerable(RowsWithBadOnes());
        var features = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
        {
            Model = MLNetTestData.TinyModel(), InputColumnName = "Path", AudioFolder = TempDirectory, BadAudio = BadAudioHandling.Skip,
        }).Fit(data);
        IDataView transformed = features.Transform(data);
        Assert.IsNull(transformed.GetRowCount(), "the count is unknown until read");
        Assert.AreEqual(3, MLNetTestData.Column(transformed, "Features").Count);
        CollectionAssert.AreEqual(new[] { "class0", "class0", "class0" }, transformed.GetColumn<string>("Label").ToArray(),
            "a cursor that does not read the features leaves out the same rows");
        Assert.AreEqual(3, features.Features.ClipsComputed);
        Assert.IsTrue(log.Any(m => m.Contains("skipped 3 of 6 rows with unusable audio")), string.Join("\n", log));
        Assert.IsTrue(log.Any(m => m.Contains("skipped Wav2Vec2Features: row 5: ") && m.Contains("absent.wav")), string.Join("\n", log));

        // LoadAudio then features: the same rows are left out, by the loader.
        IDataView loaded = ml.Transforms.LoadAudio("Audio", TempDirectory, "Path", BadAudioHandling.Skip)
            .Append(ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
            {
                Model = MLNetTestData.TinyModel(), InputColumnName = "Audio", BadAudio = BadAudioHandling.Skip,
            })).Fit(data).Transform(data);
        Assert.AreEqual(3, MLNetTestData.Column(loaded, "Features").Count);

        // Read in batches of 4 (a second cursor reads ahead over LoadAudio's rows): each bad row is still named once.
        var batchedMl = new MLContext(seed: 0);
        var batchedLog = new List<string>();
        batchedMl.Log += (_, e) => { lock (batchedLog) batchedLog.Add(e.Message); };
        IDataView batched = batchedMl.Transforms.LoadAudio("Audio", TempDirectory, "Path", BadAudioHandling.Skip)
            .Append(batchedMl.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
            {
                Model = MLNetTestData.TinyModel(), InputColumnName = "Audio", BadAudio = BadAudioHandling.Skip, BatchSize = 4,
            })).Fit(data).Transform(data);
        Assert.AreEqual(3, MLNetTestData.Column(batched, "Features").Count);
        Assert.AreEqual(2, batchedLog.Count(m => m.Contains("skipped LoadAudio: row")), string.Join("\n", batchedLog));
        Assert.AreEqual(1, batchedLog.Count(m => m.Contains("skipped 2 of 6 rows")), string.Join("\n", batchedLog));
    }
}
