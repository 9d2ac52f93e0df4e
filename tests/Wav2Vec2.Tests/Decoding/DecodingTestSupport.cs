using Wav2Vec2.Decoding;
using Wav2Vec2.Models;

namespace Wav2Vec2.Tests.Decoding;

/// <summary>Vocabularies, random logits and the brute-force reference of the decoding tests.</summary>
internal static class DecodingTestSupport
{
    /// <summary>The 32-token character vocabulary of facebook/wav2vec2-base-960h.</summary>
    public static CtcTokenizer LibriSpeechTokenizer()
    {
        string[] tokens = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H", "S", "R", "D", "L", "U", "M",
                           "W", "C", "F", "G", "Y", "P", "B", "V", "K", "'", "X", "J", "Q", "Z"];
        return new CtcTokenizer(tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i));
    }

    /// <summary>blank, delimiter, A, B: the alphabet of the small.arpa fixture.</summary>
    public static CtcTokenizer TinyTokenizer() =>
        new(new Dictionary<string, int> { ["<pad>"] = 0, ["|"] = 1, ["A"] = 2, ["B"] = 3 });

    /// <summary>(frames, vocab) logits uniform in [-scale, scale].</summary>
    public static float[] RandomLogits(int frames, int vocab, int seed, float scale = 2f) =>
        TestSupport.RandomArray(frames * vocab, seed, scale);

    /// <summary>Options under which beam search is exhaustive: nothing is pruned.</summary>
    public static BeamSearchOptions Exhaustive(float alpha, float beta, int nBest = 5) => new()
    {
        BeamWidth = 1_000_000, BeamThreshold = float.PositiveInfinity, MinTokenLogProbability = float.NegativeInfinity,
        LanguageModelWeight = alpha, WordInsertionBonus = beta, NBest = nBest,
    };

    /// <summary>
    /// Every transcript of every alignment of <paramref name="logits"/> with its exact combined score
    /// (log-sum-exp of the alignments' acoustic log-probabilities + alpha ln10 LM + beta words), best first.
    /// <paramref name="spellings"/> (token string -> word) restricts words to a lexicon.
    /// </summary>
    public static List<(string Text, double Score)> BruteForce(float[] logits, CtcTokenizer tokenizer, NGramLanguageModel? lm,
        float alpha, float beta, float unknownWordScore, IReadOnlyDictionary<string, string>? spellings = null)
    {
        int vocab = tokenizer.Count, frames = logits.Length / vocab;
        var logp = new double[logits.Length];
        for (int t = 0; t < frames; t++)
        {
            double max = Enumerable.Range(0, vocab).Max(k => (double)logits[t * vocab + k]);
            double sum = Enumerable.Range(0, vocab).Sum(k => Math.Exp(logits[t * vocab + k] - max));
            for (int k = 0; k < vocab; k++)
                logp[t * vocab + k] = logits[t * vocab + k] - max - Math.Log(sum);
        }
        var acoustic = new Dictionary<string, double>();
        var path = new int[frames];
        long total = (long)Math.Pow(vocab, frames);
        for (long index = 0; index < total; index++)
        {
            long rest = index;
            double score = 0;
            for (int t = 0; t < frames; t++)
            {
                path[t] = (int)(rest % vocab);
                rest /= vocab;
                score += logp[t * vocab + path[t]];
            }
            string? text = Transcript(path, tokenizer, spellings);
            if (text is null)
                continue;
            acoustic[text] = acoustic.TryGetValue(text, out double s) ? LogAdd(s, score) : score;
        }
        return acoustic.Select(p => (p.Key, p.Value + Weighted(p.Key, lm, alpha, beta, unknownWordScore)))
            .OrderByDescending(p => p.Item2).ToList();
    }

    /// <summary>alpha ln10 LM + beta words of a transcript.</summary>
    public static double Weighted(string text, NGramLanguageModel? lm, float alpha, float beta, float unknownWordScore)
    {
        string[] words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double lmScore = lm is null ? 0 : lm.ScoreSentence(words) + unknownWordScore * words.Count(w => lm.WordId(w) < 0);
        return alpha * Math.Log(10) * lmScore + beta * words.Length;
    }

    /// <summary>The collapsed labelling of an alignment as words, or null if a word is not in the lexicon.</summary>
    private static string? Transcript(int[] path, CtcTokenizer tokenizer, IReadOnlyDictionary<string, string>? spellings)
    {
        var tokens = new List<string>();
        int previous = -1;
        foreach (int id in path)
        {
            if (id != previous && id != tokenizer.PadId)
                tokens.Add(tokenizer.Token(id));
            previous = id;
        }
        string[] words = string.Concat(tokens.Select(t => t == tokenizer.WordDelimiter ? " " : t))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (spellings is not null)
        {
            for (int i = 0; i < words.Length; i++)
                if (!spellings.TryGetValue(words[i], out words[i]!))
                    return null;
        }
        return string.Join(' ', words);
    }

    private static double LogAdd(double a, double b) => Math.Max(a, b) + Math.Log(1 + Math.Exp(-Math.Abs(a - b)));
}
