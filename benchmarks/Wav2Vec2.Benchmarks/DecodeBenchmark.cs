using System.Diagnostics;
using System.Globalization;
using Wav2Vec2.Decoding;
using Wav2Vec2.Models;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `decode`: real-time factor of CTC beam search with an n-gram LM on synthetic logits shaped like a CTC model's
/// (a transcript of LM words, characters lasting 1-3 frames, blanks between, some frames unsure between two tokens).
/// `lmload FILE`: time, bytes per n-gram and peak resident set size of loading an ARPA file.
/// </summary>
internal static class DecodeBenchmark
{
    private static readonly string[] LibriSpeechTokens =
        ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H", "S", "R", "D", "L", "U", "M",
         "W", "C", "F", "G", "Y", "P", "B", "V", "K", "'", "X", "J", "Q", "Z"];

    public static int RunDecode(BenchmarkOptions options)
    {
        double seconds = options.Seconds(30);
        int beamWidth = NamedInt(options, "beam-width", 100);
        string lmPath = options.Named.GetValueOrDefault("lm") ?? DefaultLanguageModel();
        var tokenizer = new CtcTokenizer(LibriSpeechTokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i));
        var clock = Stopwatch.StartNew();
        NGramLanguageModel lm = NGramLanguageModel.Load(lmPath);
        double loadSeconds = clock.Elapsed.TotalSeconds;
        var defaults = new BeamSearchOptions();
        var decoder = new CtcBeamSearchDecoder(tokenizer, lm, defaults with
        {
            BeamWidth = beamWidth,
            BeamThreshold = NamedFloat(options, "beam-threshold", defaults.BeamThreshold),
            MinTokenLogProbability = -NamedFloat(options, "token-min-logp", -defaults.MinTokenLogProbability),
        });
        int frames = (int)Math.Round(seconds / 0.02);   // 320 samples a frame at 16 kHz
        float[] logits = SyntheticLogits(tokenizer, lm, frames, out string reference);
        string text = "";
        double median = BenchmarkApp.MedianSeconds(() => text = decoder.Decode(logits)[0].Text, options.Runs);
        int errors = WordErrors(reference.Split(' '), text.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Console.WriteLine($"decode seconds={BenchmarkApp.Format(seconds)} frames={frames} vocab={tokenizer.Count} beam_width={beamWidth} " +
                          $"beam_threshold={decoder.Options.BeamThreshold} token_min_logp={decoder.Options.MinTokenLogProbability} lm={Path.GetFileName(lmPath)} lm_order={lm.Order} lm_load_s={BenchmarkApp.Format(loadSeconds)} " +
                          $"words={reference.Split(' ').Length} word_errors={errors} median_s={BenchmarkApp.Format(median)} " +
                          $"realtime_factor={BenchmarkApp.Format(seconds / median)}");
        return 0;
    }

    public static int RunLoad(BenchmarkOptions options)
    {
        string path = options.Positional.Count > 0 ? options.Positional[0]
            : throw new BenchmarkUsageException("lmload: missing argument FILE (an ARPA file, e.g. from tools/make-big-arpa.py)");
        using var process = Process.GetCurrentProcess();
        long before = process.WorkingSet64;
        var clock = Stopwatch.StartNew();
        NGramLanguageModel lm = NGramLanguageModel.Load(path);
        double elapsed = clock.Elapsed.TotalSeconds;
        GC.Collect();
        process.Refresh();
        long ngrams = lm.NGramCounts.Sum();
        Console.WriteLine($"lmload file={Path.GetFileName(path)} file_mb={new FileInfo(path).Length >> 20} order={lm.Order} " +
                          $"ngrams={ngrams} model_mb={lm.MemoryBytes >> 20} " +
                          $"bytes_per_ngram={BenchmarkApp.Format((double)lm.MemoryBytes / ngrams)} rss_before_mb={before >> 20} " +
                          $"rss_after_mb={process.WorkingSet64 >> 20} peak_rss_mb={process.PeakWorkingSet64 >> 20} " +
                          $"load_s={BenchmarkApp.Format(elapsed)}");
        GC.KeepAlive(lm);
        return 0;
    }

    /// <summary>
    /// (frames, vocab) logits: random LM words spelled in the vocabulary, each character held 1-3 frames, one or two
    /// blanks after it, the target token 3-6 nats above the rest; one frame in ten is unsure between the target and
    /// another token (1 nat apart), so the beam has real choices.
    /// </summary>
    private static float[] SyntheticLogits(CtcTokenizer tokenizer, NGramLanguageModel lm, int frames, out string reference)
    {
        int vocab = tokenizer.Count, delimiter = Array.IndexOf(LibriSpeechTokens, "|");
        string[] words = lm.Vocabulary.Where(w => w.Length > 0 && w.All(c => Array.IndexOf(LibriSpeechTokens, c.ToString()) > 4)).ToArray();
        var random = new Random(7);
        var targets = new List<int>(frames);
        var spoken = new List<string>();
        while (true)
        {
            string word = words[random.Next(words.Length)];
            var next = new List<int>();
            foreach (char c in word)
            {
                next.AddRange(Enumerable.Repeat(Array.IndexOf(LibriSpeechTokens, c.ToString()), random.Next(1, 4)));
                next.AddRange(Enumerable.Repeat(tokenizer.PadId, random.Next(1, 3)));
            }
            next.Add(delimiter);
            if (targets.Count + next.Count > frames)
                break;
            targets.AddRange(next);
            spoken.Add(word.ToUpperInvariant());
        }
        while (targets.Count < frames)
            targets.Add(tokenizer.PadId);
        reference = string.Join(' ', spoken);
        var logits = new float[frames * vocab];
        for (int t = 0; t < frames; t++)
        {
            for (int k = 0; k < vocab; k++)
                logits[t * vocab + k] = (float)(random.NextDouble() * 2 - 1);
            logits[t * vocab + targets[t]] = 3f + 3f * (float)random.NextDouble();
            if (random.Next(10) == 0)
                logits[t * vocab + random.Next(4, vocab)] = logits[t * vocab + targets[t]] - 1f;
        }
        return logits;
    }

    /// <summary>Word-level edit distance.</summary>
    private static int WordErrors(string[] reference, string[] hypothesis)
    {
        var row = Enumerable.Range(0, hypothesis.Length + 1).ToArray();
        for (int i = 1; i <= reference.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= hypothesis.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (reference[i - 1] == hypothesis[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[hypothesis.Length];
    }

    /// <summary>The committed test LM (tests/Wav2Vec2.Tests/Fixtures/lm), found from the build output upwards.</summary>
    private static string DefaultLanguageModel()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Wav2Vec2.Tests", "Fixtures", "lm", "fortunes-3gram.arpa.gz");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new BenchmarkUsageException("decode: no --lm FILE given and the committed test LM was not found");
    }

    /// <summary>A positive number option (may be "inf").</summary>
    private static float NamedFloat(BenchmarkOptions options, string name, float fallback) =>
        !options.Named.TryGetValue(name, out string? text) ? fallback
        : text == "inf" ? float.PositiveInfinity
        : float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value > 0 ? value
        : throw new BenchmarkUsageException($"--{name} must be a positive number or inf, got '{text}'");

    private static int NamedInt(BenchmarkOptions options, string name, int fallback) =>
        options.Named.TryGetValue(name, out string? text) ? BenchmarkOptions.ParsePositive($"--{name}", text) : fallback;
}
