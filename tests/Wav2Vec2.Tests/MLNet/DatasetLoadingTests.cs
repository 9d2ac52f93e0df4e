using Microsoft.ML;
using Wav2Vec2.MLNet;

namespace Wav2Vec2.Tests.MLNet;

/// <summary>mlContext.SpeechRecognition.LoadTranscribedAudio: dataset layouts as rows for LoadAudio and the trainers.</summary>
[TestClass]
public sealed class DatasetLoadingTests : TempDirectoryTest
{
    [TestMethod]
    public void CommonVoiceRowsFeedLoadAudioAndMissingClipsAreWarnedByName()
    {
        string folder = Path.Combine(TempDirectory, "cv");
        Directory.CreateDirectory(Path.Combine(folder, "clips"));
        string[] lines = File.ReadAllLines(FixturePath("common_voice", "train.tsv"));
        foreach (string line in lines.Skip(1).Take(2))
            File.Copy(FixturePath("common_voice", "clips", line.Split('\t')[1]), Path.Combine(folder, "clips", line.Split('\t')[1]));
        File.WriteAllLines(Path.Combine(folder, "train.tsv"), lines.Take(4));   // the third clip is not there

        var ml = new MLContext(seed: 0);
        var warnings = new List<string>();
        ml.Log += (_, e) => { lock (warnings) if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) warnings.Add(e.RawMessage); };
        IDataView rows = ml.SpeechRecognition.LoadTranscribedAudio(Path.Combine(folder, "train.tsv"));
        TranscribedAudio[] loaded = [.. ml.Data.CreateEnumerable<TranscribedAudio>(rows, reuseRowObject: false)];
        CollectionAssert.AreEqual(new[] { lines[1].Split('\t')[2], lines[2].Split('\t')[2] }, loaded.Select(r => r.Transcript).ToArray());
        Assert.IsTrue(loaded.All(r => Path.IsPathRooted(r.Path) && File.Exists(r.Path)));
        Assert.IsTrue(warnings.Any(w => w.Contains("common_voice_fr_00002.mp3: file not found")), string.Join("\n", warnings));

        IDataView audio = ml.Transforms.LoadAudio("Audio", inputColumnName: "Path").Fit(rows).Transform(rows);
        Assert.AreEqual(2, ml.Data.CreateEnumerable<AudioRow>(audio, reuseRowObject: false).Count(r => r.Audio.Length > 1000));
    }

    private sealed class AudioRow
    {
        public float[] Audio { get; set; } = [];
    }
}
