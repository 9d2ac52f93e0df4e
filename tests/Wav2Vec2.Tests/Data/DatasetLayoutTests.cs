using Wav2Vec2.Audio;
using Wav2Vec2.Data;
using Wav2Vec2.Models;
using Wav2Vec2.Training;

namespace Wav2Vec2.Tests.Data;

/// <summary>
/// Common Voice TSVs (MP3 clips in clips/), Hugging Face audio folders (metadata.csv), and transcripts in French:
/// accents, ligatures, apostrophes and French punctuation, in the case the vocabulary spells.
/// </summary>
[TestClass]
public sealed class DatasetLayoutTests : TempDirectoryTest
{
    private static string CommonVoice(string split) => FixturePath("common_voice", split + ".tsv");

    [TestMethod]
    public void CommonVoiceTsvListsItsMp3ClipsWithTheirSentences()
    {
        AudioDataset train = AudioDataset.OpenTranscribed(CommonVoice("train"));
        Assert.AreEqual(8, train.Entries.Count);
        AudioEntry first = train.Entries[0];
        Assert.AreEqual(FixturePath("common_voice", "clips", "common_voice_fr_00000.mp3"), first.Path);
        Assert.AreEqual("« château côté mère où après la frère » ?", first.Transcript);
        Assert.AreEqual(first.Read().Samples.Length, first.Samples, "length from the MP3 frame headers");
        Assert.AreEqual(8, AudioDataset.Open(CommonVoice("train")).Entries.Count, "pre-training reads the same clips");
    }

    [TestMethod]
    public void ReadingTheHeadersReportsProgressToTheEnd()
    {
        var reports = new List<DatasetScanProgress>();
        AudioDataset.OpenTranscribed(CommonVoice("train"), new Sink(reports.Add));
        Assert.AreEqual(new DatasetScanProgress(0, 8), reports[0]);
        Assert.AreEqual(new DatasetScanProgress(8, 8), reports[^1]);
    }

    private sealed class Sink(Action<DatasetScanProgress> report) : IProgress<DatasetScanProgress>
    {
        public void Report(DatasetScanProgress value) => report(value);
    }

    [TestMethod]
    public void AMissingClipIsSkippedByName()
    {
        string folder = Path.Combine(TempDirectory, "cv");
        Directory.CreateDirectory(Path.Combine(folder, "clips"));
        string[] lines = File.ReadAllLines(CommonVoice("train"));
        foreach (string line in lines.Skip(1).Take(2))
        {
            string clip = line.Split('\t')[1];
            File.Copy(FixturePath("common_voice", "clips", clip), Path.Combine(folder, "clips", clip));
        }
        File.WriteAllLines(Path.Combine(folder, "train.tsv"), lines.Take(4));
        AudioDataset data = AudioDataset.OpenTranscribed(Path.Combine(folder, "train.tsv"));
        Assert.AreEqual(2, data.Entries.Count);
        Assert.AreEqual(1, data.Skipped.Count);
        StringAssert.Contains(data.Skipped[0], "common_voice_fr_00002.mp3: file not found");
    }

    [TestMethod]
    public void AudioFolderMetadataGivesFilesAndTheFirstTextColumn()
    {
        File.WriteAllBytes(Path.Combine(TempDirectory, "a.wav"), WavWriter.Encode(new AudioClip(new float[8000], 16000)));
        Directory.CreateDirectory(Path.Combine(TempDirectory, "sub"));
        File.Copy(FixturePath("common_voice", "clips", "common_voice_fr_00001.mp3"), Path.Combine(TempDirectory, "sub", "b.mp3"));
        File.WriteAllText(Path.Combine(TempDirectory, "metadata.csv"),
            "file_name,speaker,sentence,text\na.wav,1,\"Oui, c'est ça\",ignored\nsub/b.mp3,2,\"deux\nlignes\",ignored\n");
        foreach (string source in new[] { TempDirectory, Path.Combine(TempDirectory, "metadata.csv") })
        {
            AudioDataset data = AudioDataset.OpenTranscribed(source);
            CollectionAssert.AreEqual(new[] { "Oui, c'est ça", "deux\nlignes" }, data.Entries.Select(e => e.Transcript).ToArray(), source);
            Assert.AreEqual(8000, data.Entries[0].Samples);
        }
        File.WriteAllText(Path.Combine(TempDirectory, "metadata.csv"), "file_name,label\na.wav,yes\n");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => AudioDataset.OpenTranscribed(TempDirectory)).Message,
            "needs a file_name column and one of transcription, sentence, text (it has file_name, label)");
    }

    [TestMethod]
    [DataRow("« Où est-il ? »", LetterCase.Lower, "où est il")]
    [DataRow("« Où est-il ? »", LetterCase.Upper, "OÙ EST IL")]
    [DataRow("C’est l’été… Sœur — « déjà » !", LetterCase.Upper, "C'EST L'ÉTÉ SŒUR DÉJÀ")]
    [DataRow("Straße „Grün“", LetterCase.Keep, "Straße Grün")]
    public void NormalisationKeepsLettersOfAnyLanguageInTheVocabularysCase(string text, LetterCase letterCase, string expected) =>
        Assert.AreEqual(expected, TranscriptNormalizer.Normalize(text, letterCase));

    [TestMethod]
    public void TheVocabularysLettersDecideTheCase()
    {
        CtcTokenizer lower = Tokenizer("a", "b", "é", "'");
        Assert.AreEqual(LetterCase.Lower, lower.LetterCase);
        CollectionAssert.AreEqual(lower.Encode("é'a b"), lower.Encode(lower.Normalize("É'A, B!")));
        Assert.AreEqual(LetterCase.Upper, Tokenizer("A", "B").LetterCase);
        Assert.AreEqual(LetterCase.Keep, Tokenizer("A", "a").LetterCase);

        static CtcTokenizer Tokenizer(params string[] letters) => new(
            new[] { "<pad>", "<s>", "</s>", "<unk>", "|" }.Concat(letters).Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i));
    }

    [TestMethod]
    public void AFrenchVocabularyHasItsAccentsLigatureAndApostropheButNoPunctuation()
    {
        CtcTokenizer vocabulary = CtcFineTuner.BuildVocabulary(AudioDataset.OpenTranscribed(CommonVoice("train")));
        string[] tokens = [.. Enumerable.Range(0, vocabulary.Count).Select(vocabulary.Token)];
        foreach (string expected in new[] { "É", "È", "Ê", "Â", "Ù", "Œ", "'" })
            CollectionAssert.Contains(tokens, expected);
        foreach (string punctuation in new[] { "«", "»", "?", "!", ".", "é" })
            CollectionAssert.DoesNotContain(tokens, punctuation);
    }
}
