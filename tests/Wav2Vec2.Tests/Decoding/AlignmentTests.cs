using System.Text.Json;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using static Wav2Vec2.Tests.Decoding.DecodingTestSupport;

namespace Wav2Vec2.Tests.Decoding;

[TestClass]
public sealed class AlignmentTests
{
    private sealed record ReferenceCase(string Name, int Frames, int Vocab, int Blank, int[] Targets, float[] LogProbs, int[] Path, double Score);

    private static List<ReferenceCase> ReferenceCases() =>
        JsonSerializer.Deserialize<List<ReferenceCase>>(File.ReadAllText(FixturePath("alignment", "viterbi_reference.json")),
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;

    [TestMethod]
    public void TheViterbiPathIsTheIndependentReferences()
    {
        // tools/export_alignment_reference.py: a numpy Viterbi with torchaudio's tie rules, on random and peaked emissions.
        foreach (ReferenceCase c in ReferenceCases())
        {
            int[] path = CtcViterbi.Align(c.LogProbs, c.Frames, c.Vocab, c.Targets, c.Blank, long.MaxValue, int.MaxValue);
            CollectionAssert.AreEqual(c.Path, path, c.Name);
            double score = path.Select((label, t) => (double)c.LogProbs[t * c.Vocab + label]).Sum();
            Assert.AreEqual(c.Score, score, 1e-3, $"{c.Name}: the path's log-probability");
        }
    }

    [TestMethod]
    public void WindowedAlignmentOfALongInputIsTheExactOne()
    {
        // 40 words of 2-5 letters on a vocabulary of 30, with pauses: emissions peaked on a known path, plus noise.
        var random = new Random(3);
        var targets = new List<int>();
        var truth = new List<int>();
        for (int word = 0; word < 40; word++)
        {
            if (word > 0)
            {
                targets.Add(1);
                truth.AddRange(Enumerable.Repeat(1, random.Next(1, 3)));
            }
            truth.AddRange(Enumerable.Repeat(0, random.Next(0, 30)));
            for (int letter = random.Next(2, 6); letter > 0; letter--)
            {
                int token = random.Next(2, 30);
                if (targets.Count > 0 && targets[^1] == token)
                    truth.Add(0);
                targets.Add(token);
                truth.AddRange(Enumerable.Repeat(token, random.Next(1, 5)));
                truth.AddRange(Enumerable.Repeat(0, random.Next(0, 3)));
            }
        }
        int frames = truth.Count, vocab = 30;
        var logits = new float[frames * vocab];
        for (int t = 0; t < frames; t++)
        {
            for (int k = 0; k < vocab; k++)
                logits[t * vocab + k] = (float)(random.NextDouble() * 3);
            logits[t * vocab + truth[t]] += 3f;
        }
        float[] logProbs = TimedTranscript.LogSoftmax(logits, vocab);
        int[] exact = CtcViterbi.Align(logProbs, frames, vocab, targets.ToArray(), 0, long.MaxValue, int.MaxValue);
        int[] windowed = CtcViterbi.Align(logProbs, frames, vocab, targets.ToArray(), 0, maxExactStates: 0, windowFrames: 120, wordDelimiter: 1);
        Assert.IsGreaterThan(600, frames, "several windows");
        CollectionAssert.AreEqual(exact, windowed, "the windows agree with the exact path on clear emissions");
    }

    [TestMethod]
    public void WindowsThatWouldRatherStayOnBlankStillLeaveRoomForTheRestOfTheTranscript()
    {
        // An untrained model: blank wins every frame, so a window's best free end is to spell nothing; each window
        // must still end where the remaining frames can hold the remaining tokens.
        int frames = 3000, vocab = 6;
        var random = new Random(5);
        float[] logits = new float[frames * vocab];
        for (int t = 0; t < frames; t++)
            for (int k = 0; k < vocab; k++)
                logits[t * vocab + k] = k == 0 ? 2f : (float)random.NextDouble();
        int[] targets = [.. Enumerable.Range(0, 2000).Select(i => i % 7 == 6 ? 1 : 2 + i % 4)];
        float[] logProbs = TimedTranscript.LogSoftmax(logits, vocab);
        int[] path = CtcViterbi.Align(logProbs, frames, vocab, targets, 0, maxExactStates: 0, windowFrames: 200, wordDelimiter: 1);
        CollectionAssert.AreEqual(targets, Collapse(path), "the path spells the whole transcript");
    }

    private static int[] Collapse(int[] path) =>
        [.. path.Where((label, t) => label != 0 && (t == 0 || path[t - 1] != label))];

    [TestMethod]
    public void TheAlignerNormalisesTheTranscriptAndTimesEveryWordAndToken()
    {
        CtcTokenizer tokenizer = TinyTokenizer();
        var aligner = new CtcAligner(TinyCtc(tokenizer));
        // frames: blank A A blank | B B A blank blank
        float[] logits = OneHot(tokenizer, 0, 2, 2, 0, 1, 3, 3, 2, 0, 0);
        TimedTranscript aligned = aligner.Align(logits, 10, "a, ba!");
        Assert.AreEqual("A BA", aligned.Text);
        CollectionAssert.AreEqual(new[] { ("A", 1, 3), ("BA", 5, 8) }, aligned.Words.Select(w => (w.Word, w.StartFrame, w.EndFrame)).ToArray());
        CollectionAssert.AreEqual(new[] { ("A", 1, 3), (" ", 4, 5), ("B", 5, 7), ("A", 7, 8) },
            aligned.Tokens.Select(t => (t.Token, t.StartFrame, t.EndFrame)).ToArray());
        double seconds = aligner.Model.Backbone.SecondsPerFrame;
        Assert.AreEqual((5 * seconds, 8 * seconds), (aligned.Words[1].Start, aligned.Words[1].End));
        Assert.IsTrue(aligned.Words.All(w => w.Score is <= 0 and > -0.01), "confident one-hot frames");

        // A transcript the audio does not say is still placed, with a low score.
        TimedTranscript wrong = aligner.Align(logits, 10, "B AB");
        Assert.IsTrue(wrong.Words.Average(w => w.Score) < -3, $"mean score {wrong.Words.Average(w => w.Score)}");
    }

    [TestMethod]
    public void UnknownCharactersAreRefusedMappedOrDroppedAsAsked()
    {
        var tokenizer = new CtcTokenizer(new Dictionary<string, int> { ["<pad>"] = 0, ["|"] = 1, ["A"] = 2, ["B"] = 3, ["<unk>"] = 4 });
        float[] logits = OneHot(tokenizer, 0, 2, 0, 1, 3, 4, 0, 1, 2, 0);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new CtcAligner(TinyCtc(tokenizer)).Align(logits, 10, "A BZ A")).Message,
            "characters outside the vocabulary: 'Z'");
        TimedTranscript mapped = new CtcAligner(TinyCtc(tokenizer), new AlignmentOptions { UnknownCharacters = UnknownCharacters.MapToUnknown })
            .Align(logits, 10, "A BZ A");
        Assert.AreEqual("A BZ A", mapped.Text, "the transcript's own character stands for <unk>");
        Assert.AreEqual((4, 6), (mapped.Words[1].StartFrame, mapped.Words[1].EndFrame));
        TimedTranscript dropped = new CtcAligner(TinyCtc(tokenizer), new AlignmentOptions { UnknownCharacters = UnknownCharacters.Drop })
            .Align(logits, 10, "A BZ ZZ A");
        Assert.AreEqual("A B A", dropped.Text, "a word of unknown characters disappears with its delimiter");
    }

    [TestMethod]
    public void BadTranscriptsAndAudioGetClearErrors()
    {
        CtcTokenizer tokenizer = TinyTokenizer();
        var aligner = new CtcAligner(TinyCtc(tokenizer));
        float[] logits = OneHot(tokenizer, 0, 2, 0, 1, 3, 0);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => aligner.Align(logits, 6, " ... ")).Message, "the transcript is empty");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => aligner.Align(logits, 6, "zz q")).Message,
            "characters outside the vocabulary: 'Q' 'Z'");
        var dropping = new CtcAligner(TinyCtc(tokenizer), new AlignmentOptions { UnknownCharacters = UnknownCharacters.Drop });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => dropping.Align(logits, 6, "zz q")).Message,
            "only characters outside the vocabulary");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => aligner.Align(logits, 6, "AA BB")).Message,
            "the transcript needs at least 7 frames (5 tokens, 2 repeated letters that need a blank between them) but the audio gives 6");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => aligner.Align(new AudioClip(new float[5], 16000), "A")).Message,
            "too short");
        Assert.ThrowsExactly<ArgumentException>(() => new CtcAligner(TinyCtc(tokenizer), new AlignmentOptions { WindowSeconds = 0 }));
    }

    [TestMethod]
    public void SubtitlesAndTablesFollowTheirFormats()
    {
        var words = new[]
        {
            new WordSpan("THE", 0, 10, 0.0, 0.2, -0.1), new WordSpan("QUICK", 12, 30, 0.24, 0.6, -0.2),
            new WordSpan("BROWN", 31, 50, 0.62, 1.0, -0.3), new WordSpan("FOX", 120, 140, 2.4, 2.8, -0.05),
        };
        var timed = new TimedTranscript("THE QUICK BROWN FOX", words, [new TokenSpan("T", 0, 2, 0, 0.04, -0.01)]);
        Assert.AreEqual("1\n00:00:00,000 --> 00:00:00,600\nTHE\nQUICK\n\n2\n00:00:00,620 --> 00:00:01,000\nBROWN\n\n" +
            "3\n00:00:02,400 --> 00:00:02,800\nFOX\n\n", timed.ToSrt(new SubtitleOptions { MaxLineLength = 5, MaxLines = 2 }),
            "lines of at most 5 characters, 2 lines a cue, a new cue after a pause over 1 s");
        Assert.AreEqual("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nTHE QUICK BROWN\n\n00:00:02.400 --> 00:00:02.800\nFOX\n\n", timed.ToWebVtt());
        Assert.AreEqual("start\tend\tword\tscore\n0.000\t0.200\tTHE\t-0.1000\n0.240\t0.600\tQUICK\t-0.2000\n", string.Join('\n',
            timed.ToTsv().Split('\n').Take(3)) + "\n");
        Assert.AreEqual("2.400\t2.800\tFOX\n", timed.ToTimedText().Split('\n')[3] + "\n");
        Assert.AreEqual("""{"file":"a.wav","text":"THE QUICK BROWN FOX","words":[{"word":"THE","start":0,"end":0.2,"score":-0.1},""" +
            """{"word":"QUICK","start":0.24,"end":0.6,"score":-0.2},{"word":"BROWN","start":0.62,"end":1,"score":-0.3},""" +
            """{"word":"FOX","start":2.4,"end":2.8,"score":-0.05}],"tokens":[{"token":"T","start":0,"end":0.04,"score":-0.01}]}""",
            timed.ToJson("a.wav"));
        Assert.AreEqual("1\n00:00:00,000 --> 00:00:00,200\nTHE\n\n2\n00:00:00,240 --> 00:00:00,600\nQUICK\n\n",
            string.Join("\n\n", timed.ToSrt(new SubtitleOptions { MaxCueSeconds = 0.5 }).Split("\n\n").Take(2)) + "\n\n",
            "a cue ends before it would last longer than the limit");
    }

    // A CTC model over the tokenizer (its weights do not matter: the tests align given logits).
    private static Wav2Vec2ForCtc TinyCtc(CtcTokenizer tokenizer)
    {
        Wav2Vec2Config config = TinyConfig();
        config.VocabSize = tokenizer.Count;
        return new Wav2Vec2ForCtc(config, new RandomSource(1)) { Tokenizer = tokenizer };
    }

    private static float[] OneHot(CtcTokenizer tokenizer, params int[] tokens)
    {
        var logits = new float[tokens.Length * tokenizer.Count];
        for (int t = 0; t < tokens.Length; t++)
            logits[t * tokenizer.Count + tokens[t]] = 10f;
        return logits;
    }
}
