using Wav2Vec2.Decoding;
using Wav2Vec2.Models;
using static Wav2Vec2.Tests.Decoding.DecodingTestSupport;

namespace Wav2Vec2.Tests.Decoding;

[TestClass]
public sealed class BeamSearchTests
{
    private static readonly Lazy<NGramLanguageModel> SmallLm = new(() => NGramLanguageModel.Load(NGramLanguageModelTests.Fixture("small.arpa")));
    private static readonly Lazy<NGramLanguageModel> FortunesLm = new(() => NGramLanguageModel.Load(NGramLanguageModelTests.Fixture("fortunes-3gram.arpa.gz")));

    private static Lexicon SmallLexicon() => Lexicon.Load(NGramLanguageModelTests.Fixture("small.lexicon"), TinyTokenizer());

    /// <summary>
    /// Peaked logits: each frame's argmax (a non-special token) beats the rest by 12 nats, so the best alignment has
    /// probability above 0.98 and its labelling is the most probable one: greedy decoding is then optimal.
    /// </summary>
    private static float[] PeakedLogits(int frames, CtcTokenizer tokenizer, int seed, out int[] argmax)
    {
        var random = new Random(seed);
        int vocab = tokenizer.Count;
        float[] logits = RandomLogits(frames, vocab, seed + 1000, 1f);
        argmax = new int[frames];
        for (int t = 0; t < frames; t++)
        {
            double u = random.NextDouble();
            int token = u < 0.4 ? tokenizer.PadId : u < 0.5 ? 4 : random.Next(5, vocab);
            argmax[t] = token;
            logits[t * vocab + token] = 12f;
        }
        return logits;
    }

    [TestMethod]
    public void WithoutLanguageModelBeamSearchEqualsGreedyOnPeakedLogits()
    {
        CtcTokenizer tokenizer = LibriSpeechTokenizer();
        var plain = new CtcBeamSearchDecoder(tokenizer, options: new BeamSearchOptions { LanguageModelWeight = 0, WordInsertionBonus = 0 });
        CtcBeamSearchDecoder narrow = plain.WithOptions(plain.Options with { BeamWidth = 1 });
        var zeroWeight = new CtcBeamSearchDecoder(tokenizer, FortunesLm.Value, plain.Options);
        for (int seed = 0; seed < 40; seed++)
        {
            float[] logits = PeakedLogits(20 + 2 * seed, tokenizer, seed, out int[] argmax);
            string greedy = new GreedyCtcDecoder(tokenizer).Collapse(argmax);
            Assert.AreEqual(greedy, plain.Decode(logits)[0].Text, $"seed {seed}");
            Assert.AreEqual(greedy, narrow.Decode(logits)[0].Text, $"seed {seed}, beam width 1");
            Assert.AreEqual(greedy, zeroWeight.Decode(logits)[0].Text, $"seed {seed}, LM with alpha = beta = 0");
        }
    }

    [TestMethod]
    public void TryingOnlyTheBestTokenPerFrameIsGreedyDecoding()
    {
        // One token per frame leaves one alignment: the argmax path, whatever the logits.
        CtcTokenizer tokenizer = LibriSpeechTokenizer();
        var topOne = new CtcBeamSearchDecoder(tokenizer, FortunesLm.Value, new BeamSearchOptions { TokenTopK = 1 });
        CtcBeamSearchDecoder smallMass = topOne.WithOptions(topOne.Options with { TokenTopK = int.MaxValue, TokenCumulativeProbability = 0.01f });
        for (int seed = 0; seed < 10; seed++)
        {
            float[] logits = PeakedLogits(50, tokenizer, 600 + seed, out _).Select(v => v * 0.1f).ToArray();
            int[] argmax = Enumerable.Range(0, 50).Select(t => Enumerable.Range(0, tokenizer.Count)
                .MaxBy(k => logits[t * tokenizer.Count + k])).ToArray();
            Assert.AreEqual(new GreedyCtcDecoder(tokenizer).Collapse(argmax), topOne.Decode(logits)[0].Text, $"seed {seed}");
            Assert.AreEqual(new GreedyCtcDecoder(tokenizer).Collapse(argmax), smallMass.Decode(logits)[0].Text, $"seed {seed}");
        }
    }

    [TestMethod]
    public void ExhaustiveLexiconFreeSearchFindsTheBruteForceBest()
    {
        CtcTokenizer tokenizer = TinyTokenizer();
        foreach ((float alpha, float beta) in new[] { (0f, 0f), (0.5f, 1f), (1.5f, -0.5f), (3f, 2f) })
        {
            var decoder = new CtcBeamSearchDecoder(tokenizer, SmallLm.Value, Exhaustive(alpha, beta));
            for (int seed = 0; seed < 12; seed++)
            {
                float[] logits = RandomLogits(3 + seed % 4, tokenizer.Count, 100 + seed);
                var expected = BruteForce(logits, tokenizer, SmallLm.Value, alpha, beta, decoder.Options.UnknownWordScore);
                AssertSameRanking(expected, decoder.Decode(logits), $"alpha {alpha} beta {beta} seed {seed}");
            }
        }
    }

    [TestMethod]
    public void ExhaustiveLexiconSearchFindsTheBruteForceBest()
    {
        CtcTokenizer tokenizer = TinyTokenizer();
        Lexicon lexicon = SmallLexicon();
        var spellings = lexicon.Spellings.ToDictionary(s => string.Concat(s.Tokens.Select(tokenizer.Token)), s => lexicon.Words[s.Word]);
        foreach ((float alpha, float beta) in new[] { (0f, 0f), (0.5f, 1f), (2f, -1f) })
        {
            var decoder = new CtcBeamSearchDecoder(tokenizer, lexicon, SmallLm.Value, Exhaustive(alpha, beta));
            for (int seed = 0; seed < 12; seed++)
            {
                float[] logits = RandomLogits(3 + seed % 4, tokenizer.Count, 200 + seed);
                var expected = BruteForce(logits, tokenizer, SmallLm.Value, alpha, beta, decoder.Options.UnknownWordScore, spellings);
                AssertSameRanking(expected, decoder.Decode(logits), $"lexicon, alpha {alpha} beta {beta} seed {seed}");
            }
        }
    }

    private static void AssertSameRanking(List<(string Text, double Score)> expected, IReadOnlyList<DecodingHypothesis> actual, string what)
    {
        Assert.AreEqual(Math.Min(5, expected.Count), actual.Count, $"{what}: hypotheses");
        for (int i = 0; i < actual.Count; i++)
        {
            Assert.AreEqual(expected[i].Text, actual[i].Text, $"{what}: rank {i}");
            Assert.AreEqual(expected[i].Score, actual[i].Score, 1e-3 * Math.Max(1, Math.Abs(expected[i].Score)), $"{what}: score of rank {i}");
        }
    }

    [TestMethod]
    public void ScoresAddUpAndTheLanguageModelChangesTheChoice()
    {
        CtcTokenizer tokenizer = TinyTokenizer();
        // Frames: A, blank, A or B about equally, blank: "AA" (unknown to the LM) against "AB" (a listed word).
        float[] logits = [-5, -5, 3, -5, 3, -5, -5, -5, -5, -5, 1.02f, 1, 3, -5, -5, -5];
        var acousticOnly = new CtcBeamSearchDecoder(tokenizer, options: Exhaustive(0, 0));
        Assert.AreEqual("AA", acousticOnly.Decode(logits)[0].Text);
        var withLm = new CtcBeamSearchDecoder(tokenizer, SmallLm.Value, Exhaustive(0.5f, 0));
        DecodingHypothesis best = withLm.Decode(logits)[0];
        Assert.AreEqual("AB", best.Text);
        Assert.AreEqual(SmallLm.Value.ScoreSentence(["AB"]), best.LanguageModelScore, 1e-5f);
        Assert.AreEqual(best.AcousticScore + 0.5f * MathF.Log(10) * best.LanguageModelScore, best.Score, 1e-4f);
    }

    [TestMethod]
    public void ARepeatedCharacterNeedsABlankBetween()
    {
        CtcTokenizer tokenizer = TinyTokenizer();
        var decoder = new CtcBeamSearchDecoder(tokenizer, options: new BeamSearchOptions { LanguageModelWeight = 0, WordInsertionBonus = 0 });
        Assert.AreEqual("A", decoder.Decode(OneHot(tokenizer, 2, 2, 2))[0].Text);
        Assert.AreEqual("AA", decoder.Decode(OneHot(tokenizer, 2, 0, 2))[0].Text);
        Assert.AreEqual("A A", decoder.Decode(OneHot(tokenizer, 2, 1, 1, 0, 1, 2, 0))[0].Text);
        Assert.AreEqual("B", decoder.Decode(OneHot(tokenizer, 1, 0, 3, 3, 1))[0].Text);
    }

    /// <summary>Logits that make each listed token almost certain in its frame.</summary>
    private static float[] OneHot(CtcTokenizer tokenizer, params int[] tokens)
    {
        var logits = new float[tokens.Length * tokenizer.Count];
        for (int t = 0; t < tokens.Length; t++)
            logits[t * tokenizer.Count + tokens[t]] = 10f;
        return logits;
    }

    [TestMethod]
    public void TheLexiconDecoderProducesOnlyLexiconWords()
    {
        CtcTokenizer tokenizer = TinyTokenizer();
        Lexicon lexicon = SmallLexicon();
        var decoder = new CtcBeamSearchDecoder(tokenizer, lexicon, SmallLm.Value, new BeamSearchOptions { NBest = 20, BeamWidth = 50 });
        for (int seed = 0; seed < 20; seed++)
        {
            foreach (DecodingHypothesis hypothesis in decoder.Decode(RandomLogits(30, tokenizer.Count, 300 + seed, 3f)))
                foreach (string word in hypothesis.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    CollectionAssert.Contains(lexicon.Words.ToList(), word, $"seed {seed}: '{hypothesis.Text}'");
        }
    }

    [TestMethod]
    public void NBestIsSortedAndDistinctAndTheBestIsTimedInsideTheInput()
    {
        CtcTokenizer tokenizer = LibriSpeechTokenizer();
        var options = new BeamSearchOptions { NBest = 10 };
        // Lexicon-free on softened peaked logits, lexicon-constrained on random ones.
        var cases = new (CtcBeamSearchDecoder Decoder, Func<int, int, float[]> Logits)[]
        {
            (new CtcBeamSearchDecoder(tokenizer, FortunesLm.Value, options),
                (frames, seed) => PeakedLogits(frames, tokenizer, seed, out _).Select(v => v * (0.15f + 0.015f * (seed % 10))).ToArray()),
            (new CtcBeamSearchDecoder(TinyTokenizer(), SmallLexicon(), SmallLm.Value, options),
                (frames, seed) => RandomLogits(frames, 4, seed, 4f)),
        };
        foreach ((CtcBeamSearchDecoder decoder, Func<int, int, float[]> makeLogits) in cases)
            for (int seed = 0; seed < 10; seed++)
            {
                int frames = 40 + seed;
                float[] logits = makeLogits(frames, 400 + seed);
                IReadOnlyList<DecodingHypothesis> hypotheses = decoder.Decode(logits);
                Assert.IsGreaterThan(1, hypotheses.Count, $"seed {seed}");
                Assert.AreEqual(hypotheses.Count, hypotheses.Select(h => h.Text).Distinct().Count(), "distinct transcripts");
                for (int i = 1; i < hypotheses.Count; i++)
                    Assert.IsGreaterThanOrEqualTo(hypotheses[i].Score, hypotheses[i - 1].Score, "sorted best first");

                TimedTranscript timed = decoder.DecodeWithTimestamps(logits, frames, 0.025);
                Assert.AreEqual(hypotheses[0].Text, timed.Text, $"seed {seed}: the timed transcript is the best one ({string.Join(",", hypotheses[0].TokenIds)})");
                int previousEnd = 0;
                foreach (WordSpan word in timed.Words)
                {
                    Assert.IsTrue(previousEnd <= word.StartFrame && word.StartFrame < word.EndFrame && word.EndFrame <= frames,
                        $"seed {seed} '{timed.Text}': {word} after frame {previousEnd}");
                    Assert.AreEqual((word.StartFrame * 0.025, word.EndFrame * 0.025), (word.Start, word.End));
                    Assert.IsTrue(word.Score is <= 0 and > -50, $"{word}: a mean log-posterior");
                    previousEnd = word.EndFrame;
                }
            }
    }

    [TestMethod]
    public void TimestampsFollowHuggingFacesOffsetsForBothDecoders()
    {
        CtcTokenizer tokenizer = TinyTokenizer();
        // frames 0-8: blank A A blank | | B A blank. Hugging Face's _compute_offsets groups equal ids and drops blanks:
        // A [1, 3), " " [4, 6), B [6, 7), A [7, 8); _get_word_offsets: A [1, 3), BA [6, 8); seconds = frame x 0.02.
        float[] logits = OneHot(tokenizer, 0, 2, 2, 0, 1, 1, 3, 2, 0);
        double certain = -Math.Log(1 + 3 * Math.Exp(-10));   // log-softmax of a one-hot 10 among four
        foreach (ICtcDecoder decoder in new ICtcDecoder[] { new GreedyCtcDecoder(tokenizer),
            new CtcBeamSearchDecoder(tokenizer, options: new BeamSearchOptions { LanguageModelWeight = 0 }) })
        {
            TimedTranscript timed = decoder.DecodeWithTimestamps(logits, 9, 0.02);
            Assert.AreEqual("A BA", timed.Text);
            CollectionAssert.AreEqual(new[] { ("A", 1, 3, 1 * 0.02, 3 * 0.02), ("BA", 6, 8, 6 * 0.02, 8 * 0.02) },
                timed.Words.Select(w => (w.Word, w.StartFrame, w.EndFrame, w.Start, w.End)).ToArray(), decoder.GetType().Name);
            foreach (WordSpan word in timed.Words)
                Assert.AreEqual(certain, word.Score, 1e-6, $"{word}: the mean log-posterior of its frames");
            CollectionAssert.AreEqual(new[] { ("A", 1, 3), (" ", 4, 6), ("B", 6, 7), ("A", 7, 8) },
                timed.Tokens.Select(t => (t.Token, t.StartFrame, t.EndFrame)).ToArray(), decoder.GetType().Name);
        }
    }

    [TestMethod]
    public void ConcurrentCallsGiveTheSequentialResults()
    {
        CtcTokenizer tokenizer = LibriSpeechTokenizer();
        var decoder = new CtcBeamSearchDecoder(tokenizer, FortunesLm.Value, new BeamSearchOptions { NBest = 3 });
        float[][] inputs = Enumerable.Range(0, 16).Select(s => PeakedLogits(60, tokenizer, 500 + s, out _).Select(v => v * 0.3f).ToArray()).ToArray();
        string[] sequential = inputs.Select(x => string.Join("/", decoder.Decode(x).Select(h => $"{h.Text}:{h.Score}"))).ToArray();
        var parallel = new string[inputs.Length];
        Parallel.For(0, inputs.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => parallel[i] = string.Join("/", decoder.Decode(inputs[i]).Select(h => $"{h.Text}:{h.Score}")));
        CollectionAssert.AreEqual(sequential, parallel);
    }

    [TestMethod]
    public void ARepeatedDecodeAllocatesNothingPerFrame()
    {
        // The frame loop works in pooled per-thread scratch: a warm call allocates the final beams' transcripts (about
        // 50 x 350 characters here) and its result, nothing per frame (one array per frame would already be 1500 of them).
        CtcTokenizer tokenizer = LibriSpeechTokenizer();
        var decoder = new CtcBeamSearchDecoder(tokenizer, FortunesLm.Value, new BeamSearchOptions { BeamWidth = 50 });
        float[] logits = PeakedLogits(1500, tokenizer, 700, out _).Select(v => v * 0.4f).ToArray();
        decoder.Decode(logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        decoder.Decode(logits);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.IsLessThan(128 * 1024L, allocated, $"a 1500-frame decode allocated {allocated} bytes");
    }

    [TestMethod]
    public void BadInputIsRejectedWithAClearMessage()
    {
        CtcTokenizer tokenizer = TinyTokenizer();
        var decoder = new CtcBeamSearchDecoder(tokenizer);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => decoder.Decode(new float[7])).Message,
            "logits hold 7 values, not a whole number of frames of the vocabulary size 4");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => decoder.Decode(ReadOnlySpan<float>.Empty)).Message,
            "logits are empty");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => decoder.Decode(Wav2Vec2.Tensors.Tensor.FromArray(new float[10], 2, 5))).Message,
            "logits must have shape (frames, 4), got (2, 5)");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => decoder.Decode([0, float.NaN, 0, 0])).Message,
            "frame 0 holds NaN");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            new CtcBeamSearchDecoder(tokenizer, options: new BeamSearchOptions { LanguageModelWeight = float.NaN })).Message,
            "LanguageModelWeight (alpha) must be a finite number");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            decoder.WithOptions(new BeamSearchOptions { BeamWidth = 0 })).Message, "BeamWidth must be at least 1, got 0");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            new CtcBeamSearchDecoder(new CtcTokenizer(new Dictionary<string, int> { ["<pad>"] = 0, ["A"] = 1 }))).Message,
            "no word delimiter token '|'");
    }
}
