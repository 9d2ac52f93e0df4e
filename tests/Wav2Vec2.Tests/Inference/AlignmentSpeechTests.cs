using System.Text.Json;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;

namespace Wav2Vec2.Tests.Inference;

/// <summary>Forced alignment on speech whose word boundaries are known to the sample (tools/make_alignment_fixture.py).</summary>
[TestClass]
public sealed class AlignmentSpeechTests
{
    private sealed record Word(string Text, double Start, double End);

    [TestMethod]
    public void TheBundledModelPlacesWordsWhereTheyWereSpoken()
    {
        using JsonDocument fixture = JsonDocument.Parse(File.ReadAllText(FixturePath("alignment", "words.json")));
        string text = fixture.RootElement.GetProperty("text").GetString()!;
        Word[] truth = fixture.RootElement.GetProperty("words").EnumerateArray()
            .Select(w => new Word(w.GetProperty("word").GetString()!, w.GetProperty("start").GetDouble(), w.GetProperty("end").GetDouble())).ToArray();
        var aligner = CtcAligner.FromPretrained(ExamplesPath("models", "tiny-en"));
        TimedTranscript aligned = aligner.Align(AudioFile.Read(FixturePath("alignment", "words.flac")), text.ToLowerInvariant() + ".");
        CollectionAssert.AreEqual(truth.Select(w => w.Text).ToArray(), aligned.Words.Select(w => w.Word).ToArray());
        double[] errors = [.. truth.Zip(aligned.Words).SelectMany(p => new[] { Math.Abs(p.First.Start - p.Second.Start), Math.Abs(p.First.End - p.Second.End) })
            .Order()];
        double median = (errors[errors.Length / 2 - 1] + errors[errors.Length / 2]) / 2;
        // Measured 26.8 ms over starts and ends together (the issue's target is 40 ms; the bundled model before
        // 2026-12-04, pre-trained for 3000 updates instead of 10000, fired a word's first letter ~80 ms late and scored
        // 49.7 ms). The pin catches any change of the alignment itself.
        Assert.AreEqual(0.0268, median, 0.004, $"median boundary error; errors: {string.Join(", ", errors.Select(e => e.ToString("F3")))}");
        Assert.IsTrue(aligned.Words.All(w => w.Score <= 0));
    }
}
