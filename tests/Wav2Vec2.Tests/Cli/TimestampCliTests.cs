using System.Text.Json;
using Wav2Vec2.Audio;
using static Wav2Vec2.Tests.Support.CliRunner;

namespace Wav2Vec2.Tests.Cli;

/// <summary>transcribe with times and align: formats, several files, and one-line errors that leave no output behind.</summary>
[TestClass]
public sealed class TimestampCliTests : TempDirectoryTest
{
    private static readonly string Model = ExamplesPath("models", "tiny-en");
    private static readonly string Speech = ExamplesPath("data", "speech.wav");
    private const string Spoken = "The quick brown fox jumps over the lazy dog. Speech representations are learned from raw audio.";

    [TestMethod]
    public void TranscribeWritesJsonLinesSubtitlesAndTimedText()
    {
        var (code, output, error) = Run("transcribe", "--model", Model, "--audio", Speech, Speech, "--format", "json");
        Assert.AreEqual(0, code, error);
        string[] lines = output.TrimEnd().Split('\n');
        Assert.AreEqual(2, lines.Length, "one JSON object per recording");
        using (JsonDocument first = JsonDocument.Parse(lines[0]))
        {
            JsonElement root = first.RootElement;
            Assert.AreEqual(Speech, root.GetProperty("file").GetString());
            string[] words = root.GetProperty("words").EnumerateArray().Select(w => w.GetProperty("word").GetString()!).ToArray();
            CollectionAssert.AreEqual(root.GetProperty("text").GetString()!.Split(' '), words);
            Assert.IsTrue(root.GetProperty("tokens").GetArrayLength() > words.Length);
            double previous = 0;
            foreach (JsonElement word in root.GetProperty("words").EnumerateArray())
            {
                double start = word.GetProperty("start").GetDouble(), end = word.GetProperty("end").GetDouble();
                Assert.IsTrue(previous <= start && start < end && end <= 6.8, $"{word}");
                previous = end;
            }
        }

        string srt = Path.Combine(TempDirectory, "speech.srt");
        (code, output, error) = Run("transcribe", "--model", Model, "--audio", Speech, "--format", "srt", "--out", srt, "--max-line-length", "20");
        Assert.AreEqual(0, code, error);
        string[] cues = File.ReadAllText(srt).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        StringAssert.StartsWith(cues[0], "1\n00:00:00,020 --> ");
        Assert.IsTrue(cues.SelectMany(c => c.Split('\n').Skip(2)).All(line => line.Length <= 20 || !line.Contains(' ')), File.ReadAllText(srt));

        (code, output, _) = Run("transcribe", "--model", Model, "--audio", Speech, "--timestamps", "char");
        Assert.AreEqual(0, code);
        StringAssert.StartsWith(output, "0.000\t0.020\t \n0.020\t0.040\tT\n0.040\t0.060\tH\n", "the word delimiter the model emits first is a token too");
        StringAssert.Contains(Run("transcribe", "--model", Model, "--audio", Speech, "--format", "vtt").Output, "WEBVTT\n\n00:00:00.020 --> ");
    }

    [TestMethod]
    public void TranscribeGoesOnPastAFileThatFailsAndNamesIt()
    {
        string tooShort = Path.Combine(TempDirectory, "short.wav");
        File.WriteAllBytes(tooShort, WavWriter.Encode(new AudioClip(new float[100], 16000)));
        string missing = Path.Combine(TempDirectory, "missing.wav");
        var (code, output, error) = Run("transcribe", "--model", Model, "--audio", Speech, tooShort, missing, Speech);
        Assert.AreEqual(1, code, "a file failed");
        Assert.AreEqual(2, output.TrimEnd().Split('\n').Length, "the two good files are transcribed:\n" + output);
        StringAssert.Contains(error, $"error: {tooShort}: the recording is too short");
        StringAssert.Contains(error, $"error: {missing}: audio file '{missing}' does not exist");

        string json = Path.Combine(TempDirectory, "all.jsonl");
        Assert.AreEqual(1, Run("transcribe", "--model", Model, "--audio", tooShort, "--format", "json", "--out", json).Code);
        Assert.IsFalse(File.Exists(json), "nothing succeeded: no output file");
        StringAssert.Contains(Run("transcribe", "--model", Model, "--audio", Speech, Speech, "--format", "srt").Error,
            "--format srt writes the subtitles of one recording: give one --audio");
    }

    [TestMethod]
    public void AlignWritesEveryWordOfTheTranscript()
    {
        string tsv = Path.Combine(TempDirectory, "aligned.tsv");
        var (code, output, error) = Run("align", "--model", Model, "--audio", Speech, "--text", Spoken, "--format", "tsv", "--out", tsv);
        Assert.AreEqual(0, code, error);
        string[] rows = File.ReadAllLines(tsv);
        Assert.AreEqual("start\tend\tword\tscore", rows[0]);
        CollectionAssert.AreEqual("THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG SPEECH REPRESENTATIONS ARE LEARNED FROM RAW AUDIO".Split(' '),
            rows.Skip(1).Select(r => r.Split('\t')[2]).ToArray());

        string textFile = Path.Combine(TempDirectory, "transcript.txt");
        File.WriteAllText(textFile, Spoken);
        (code, output, error) = Run("align", "--model", Model, "--audio", Speech, "--text-file", textFile);
        Assert.AreEqual(0, code, error);
        using JsonDocument json = JsonDocument.Parse(output);
        Assert.AreEqual(16, json.RootElement.GetProperty("words").GetArrayLength(), "JSON by default");
        StringAssert.Contains(Run("align", "--model", Model, "--audio", Speech, "--text", "a café", "--unknown", "map").Output, "\"word\":\"CAFÉ\"");
    }

    [TestMethod]
    [DataRow("--text", " . ", "the transcript is empty")]
    [DataRow("--text", "ÉÉ ÇÇ", "the transcript has characters outside the vocabulary: 'Ç' 'É'")]
    [DataRow("--text-repeated", "far too many words for six and a half seconds of speech ", "but the audio gives 337")]
    public void AlignRefusesBadTranscriptsInOneLine(string flag, string value, string message)
    {
        string json = Path.Combine(TempDirectory, "out.json");
        if (flag == "--text-repeated")   // 20 copies: over a thousand letters for 337 frames
            (flag, value) = ("--text", string.Concat(Enumerable.Repeat(value, 20)));
        var (code, _, error) = Run("align", "--model", Model, "--audio", Speech, flag, value, "--out", json);
        Assert.AreEqual(1, code, error);
        StringAssert.Contains(error, message);
        Assert.AreEqual(1, error.TrimEnd().Split('\n').Length, "one line");
        Assert.IsFalse(File.Exists(json), "no output file");
        Assert.AreEqual(0, Directory.GetFiles(TempDirectory).Length, "no temporary file either");
    }

    [TestMethod]
    public void AlignRefusesBadFlagsAndAudio()
    {
        string tooShort = Path.Combine(TempDirectory, "short.wav");
        File.WriteAllBytes(tooShort, WavWriter.Encode(new AudioClip(new float[100], 16000)));
        StringAssert.Contains(Run("align", "--model", Model, "--audio", tooShort, "--text", "a").Error, "too short");
        StringAssert.Contains(Run("align", "--model", Model, "--audio", Speech).Error, "give the transcript with --text or --text-file");
        StringAssert.Contains(Run("align", "--model", Model, "--audio", Speech, "--text", "a", "--text-file", "x").Error, "(one of them)");
        StringAssert.Contains(Run("align", "--model", Model, "--audio", Speech, "--text", "a", "--out", "/nonexistent/dir/a.json").Error,
            "output directory '/nonexistent/dir' does not exist");
        StringAssert.Contains(Run("align", "--model", Model, "--audio", Speech, "--text", "a", "--max-lines", "0").Error, "--max-lines must be positive");
        StringAssert.Contains(Run("align", "--model", Model, "--audio", Speech, "--text", "a", "--unknown", "guess").Error,
            "'guess' not recognized. Must be one of: 'error' 'map' 'drop'");
    }
}
