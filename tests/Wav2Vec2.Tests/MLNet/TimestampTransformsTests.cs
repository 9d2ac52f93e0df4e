using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.MLNet;

namespace Wav2Vec2.Tests.MLNet;

/// <summary>Word times in ML.NET: the transcription transform's word columns and the alignment transform.</summary>
[TestClass]
public sealed class TimestampTransformsTests : TempDirectoryTest
{
    private static readonly string Model = ExamplesPath("models", "tiny-en");
    private const string Spoken = "The quick brown fox jumps over the lazy dog. Speech representations are learned from raw audio.";

    private sealed class Utterance
    {
        public string Path { get; set; } = "";
        public string Transcript { get; set; } = "";
    }

    private static (string[] Words, float[] Starts, float[] Ends)[] WordColumns(IDataView data, string words = "Words")
    {
        var rows = new List<(string[], float[], float[])>();
        using DataViewRowCursor cursor = data.GetRowCursor([data.Schema[words], data.Schema["WordStarts"], data.Schema["WordEnds"]]);
        var getWords = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(data.Schema[words]);
        var getStarts = cursor.GetGetter<VBuffer<float>>(data.Schema["WordStarts"]);
        var getEnds = cursor.GetGetter<VBuffer<float>>(data.Schema["WordEnds"]);
        VBuffer<ReadOnlyMemory<char>> w = default;
        VBuffer<float> s = default, e = default;
        while (cursor.MoveNext())
        {
            getWords(ref w);
            getStarts(ref s);
            getEnds(ref e);
            rows.Add((w.DenseValues().Select(m => m.ToString()).ToArray(), s.DenseValues().ToArray(), e.DenseValues().ToArray()));
        }
        return [.. rows];
    }

    [TestMethod]
    public void TranscriptionAddsWordsAndTheirTimesAsTheCoreComputesThem()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new Utterance { Path = ExamplesPath("data", "speech.wav") } });
        IDataView transcribed = ml.Transforms.Wav2Vec2Transcribe(new Wav2Vec2TranscribeOptions
        {
            ModelDirectory = Model, InputColumnName = "Path", WordTimes = true,
        }).Fit(data).Transform(data);
        TimedTranscript core = SpeechRecognizer.FromPretrained(Model).TranscribeWithTimestamps(AudioFile.Read(ExamplesPath("data", "speech.wav")));
        Assert.AreEqual(core.Text, transcribed.GetColumn<string>("Transcript").Single());
        var (words, starts, ends) = WordColumns(transcribed)[0];
        CollectionAssert.AreEqual(core.Words.Select(w => w.Word).ToArray(), words);
        CollectionAssert.AreEqual(core.Words.Select(w => (float)w.Start).ToArray(), starts);
        CollectionAssert.AreEqual(core.Words.Select(w => (float)w.End).ToArray(), ends);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Wav2Vec2Transcribe(new Wav2Vec2TranscribeOptions
        {
            ModelDirectory = Model, InputColumnName = "Path", WordTimes = true, WordsColumnName = "Transcript",
        })).Message, "distinct names");
    }

    [TestMethod]
    public void AlignmentPlacesEachRowsTranscriptAndSavesInTheZip()
    {
        var ml = new MLContext(seed: 0);
        string speech = ExamplesPath("data", "speech.wav"), words = FixturePath("alignment", "words.flac");
        string wordsText = System.Text.Json.JsonDocument.Parse(File.ReadAllText(FixturePath("alignment", "words.json"))).RootElement
            .GetProperty("text").GetString()!;
        IDataView data = ml.Data.LoadFromEnumerable(new[]
        {
            new Utterance { Path = speech, Transcript = Spoken }, new Utterance { Path = words, Transcript = wordsText },
        });
        var estimator = ml.Transforms.Wav2Vec2Align("Words", "Path", "Transcript", Model);
        Assert.IsNotNull(estimator.GetOutputSchema(data.Schema.ToSchemaShape()).FirstOrDefault(c => c.Name == "WordEnds").Name);
        Wav2Vec2AlignTransformer align = estimator.Fit(data);
        var rows = WordColumns(align.Transform(data));
        var aligner = CtcAligner.FromPretrained(Model);
        foreach (var (row, (file, text)) in rows.Zip(new[] { (speech, Spoken), (words, wordsText) }))
        {
            TimedTranscript core = aligner.Align(AudioFile.Read(file), text);
            CollectionAssert.AreEqual(core.Words.Select(w => w.Word).ToArray(), row.Words);
            CollectionAssert.AreEqual(core.Words.Select(w => (float)w.Start).ToArray(), row.Starts, file);
        }

        string zip = Path.Combine(TempDirectory, "align.zip");
        ml.Model.SaveWav2Vec2(align, data.Schema, zip);
        var reloaded = WordColumns(new MLContext(seed: 1).Model.LoadWav2Vec2(zip, out _).Transform(data));
        CollectionAssert.AreEqual(rows[1].Ends, reloaded[1].Ends, "the loaded transform aligns the same");
    }

    [TestMethod]
    public void ARowWhoseTranscriptCannotBeAlignedFailsOrIsSkippedNamingTheFile()
    {
        var ml = new MLContext(seed: 0);
        string speech = ExamplesPath("data", "speech.wav");
        IDataView data = ml.Data.LoadFromEnumerable(new[]
        {
            new Utterance { Path = speech, Transcript = Spoken }, new Utterance { Path = speech, Transcript = "zürich" },
            new Utterance { Path = speech, Transcript = "" },
        });
        IDataView failing = ml.Transforms.Wav2Vec2Align("Words", "Path", "Transcript", Model).Fit(data).Transform(data);
        string message = Assert.ThrowsExactly<InvalidDataException>(() => WordColumns(failing)).Message;
        StringAssert.Contains(message, $"Wav2Vec2Align: row 1: {speech}: the transcript has characters outside the vocabulary: 'Ü'");
        IDataView skipping = ml.Transforms.Wav2Vec2Align(new Wav2Vec2AlignOptions
        {
            ModelDirectory = Model, InputColumnName = "Path", BadAudio = BadAudioHandling.Skip,
        }).Fit(data).Transform(data);
        Assert.AreEqual(1, WordColumns(skipping).Length, "the two rows that cannot be aligned are left out");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Wav2Vec2Align("Words", "Path", "Text", Model)
            .Fit(data)).Message, "could not find input column 'Text'");
    }
}
