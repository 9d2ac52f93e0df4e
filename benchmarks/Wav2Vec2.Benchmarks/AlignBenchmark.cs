using System.Diagnostics;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `align`: forced alignment. Without --audio, the cost beyond the acoustic model on synthetic emissions (S seconds,
/// a vocabulary of V characters, logits peaked on a known path with pauses and noise): exact and windowed alignment,
/// their real-time factors and how far their word boundaries differ. With --audio and --text-file, the whole path
/// (model + alignment) on a real recording with --model, or a randomly initialised CTC model of --preset; --compare
/// also aligns the recording's logits exactly and reports the windowed alignment's boundary differences. Prints the
/// process's peak resident set size.
/// </summary>
internal static class AlignBenchmark
{
    public static int Run(BenchmarkOptions options) =>
        options.Named.ContainsKey("audio") ? RunRecording(options) : RunSynthetic(options);

    private static int RunSynthetic(BenchmarkOptions options)
    {
        double seconds = options.Seconds(600);
        int vocab = options.Named.TryGetValue("vocab", out string? v) ? int.Parse(v) : 60;
        CtcTokenizer tokenizer = Vocabulary(vocab);
        var model = new Wav2Vec2ForCtc(SmallConfig(vocab), new RandomSource(0)) { Tokenizer = tokenizer };
        (float[] logits, string text) = SyntheticEmissions(tokenizer, (int)(seconds * 50), new Random(1));
        int frames = logits.Length / vocab;
        var exact = new CtcAligner(model, new AlignmentOptions { MaxExactStates = long.MaxValue });
        var windowed = new CtcAligner(model);
        TimedTranscript a = null!, b = null!;
        double[] medians = BenchmarkApp.InterleavedMedians(Math.Min(options.Runs, 3),
            () => a = exact.Align(logits, frames, text), () => b = windowed.Align(logits, frames, text));
        Console.WriteLine($"align synthetic seconds={BenchmarkApp.Format(seconds)} frames={frames} vocab={vocab} words={a.Words.Count} " +
                          $"tokens={a.Tokens.Count} exact_s={BenchmarkApp.Format(medians[0])} windowed_s={BenchmarkApp.Format(medians[1])} " +
                          $"exact_realtime={BenchmarkApp.Format(seconds / medians[0])} windowed_realtime={BenchmarkApp.Format(seconds / medians[1])} " +
                          $"{Differences(a, b)} peak_rss_mb={PeakRssMb()}");
        return 0;
    }

    private static int RunRecording(BenchmarkOptions options)
    {
        string text = File.ReadAllText(options.Named.TryGetValue("text-file", out string? f) ? f
            : throw new BenchmarkUsageException("--audio needs --text-file"));
        var clock = Stopwatch.StartNew();
        Wav2Vec2ForCtc model = options.Named.TryGetValue("model", out string? directory) ? Wav2Vec2ForCtc.FromPretrained(directory)
            : RandomCtc(options.PresetConfig());
        AudioClip audio = AudioFile.Read(options.Named["audio"]);
        double seconds = audio.Seconds;
        Tensor logits = model.Logits(audio);
        double modelSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var aligner = new CtcAligner(model, new AlignmentOptions { UnknownCharacters = UnknownCharacters.Drop });
        TimedTranscript windowed = aligner.Align(logits.Span, logits.Size(0), text);
        double alignSeconds = clock.Elapsed.TotalSeconds;
        string comparison = "";
        if (options.Named.ContainsKey("compare"))
        {
            var exact = new CtcAligner(model, new AlignmentOptions { UnknownCharacters = UnknownCharacters.Drop, MaxExactStates = long.MaxValue });
            comparison = " " + Differences(exact.Align(logits.Span, logits.Size(0), text), windowed);
        }
        Console.WriteLine($"align recording seconds={BenchmarkApp.Format(seconds)} frames={logits.Size(0)} words={windowed.Words.Count} " +
                          $"model={directory ?? "random " + options.Preset} model_s={BenchmarkApp.Format(modelSeconds)} " +
                          $"align_s={BenchmarkApp.Format(alignSeconds)} align_realtime={BenchmarkApp.Format(seconds / alignSeconds)}{comparison} " +
                          $"peak_rss_mb={PeakRssMb()}");
        return 0;
    }

    // How the windowed alignment's word boundaries differ from the exact one's, in milliseconds.
    private static string Differences(TimedTranscript exact, TimedTranscript windowed)
    {
        double[] differences = [.. exact.Words.Zip(windowed.Words)
            .SelectMany(p => new[] { Math.Abs(p.First.Start - p.Second.Start), Math.Abs(p.First.End - p.Second.End) }).Select(d => d * 1000).Order()];
        int moved = differences.Count(d => d > 0);
        return $"boundaries={differences.Length} boundaries_moved={moved} median_diff_ms={BenchmarkApp.Format(BenchmarkApp.Median(differences))} " +
               $"p99_diff_ms={BenchmarkApp.Format(differences[(int)(0.99 * (differences.Length - 1))])} max_diff_ms={BenchmarkApp.Format(differences[^1])}";
    }

    // <pad>, <s>, </s>, <unk>, | and then letters, accented capitals and digits up to `size` tokens.
    private static CtcTokenizer Vocabulary(int size)
    {
        var tokens = new List<string> { "<pad>", "<s>", "</s>", "<unk>", "|" };
        string letters = "ETAOINSHRDLUMWCFGYPBVKXJQZ'ÀÁÂÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÖØÙÚÛÜÝÞßŒ0123456789";
        tokens.AddRange(letters.Take(size - tokens.Count).Select(c => c.ToString()));
        if (tokens.Count != size)
            throw new BenchmarkUsageException($"--vocab must be between 6 and {5 + letters.Length}");
        return new CtcTokenizer(tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i));
    }

    // Words of 1-8 letters, each letter held 1-4 frames, pauses between words: noisy logits peaked on that path.
    private static (float[] Logits, string Text) SyntheticEmissions(CtcTokenizer tokenizer, int frames, Random random)
    {
        int vocab = tokenizer.Count, delimiter = tokenizer.WordDelimiterId;
        var path = new List<int>();
        var words = new List<string>();
        while (path.Count < frames - 40)
        {
            if (words.Count > 0)
                path.AddRange(Enumerable.Repeat(delimiter, random.Next(1, 3)));
            path.AddRange(Enumerable.Repeat(0, random.Next(0, 12)));
            string word = "";
            for (int letters = random.Next(1, 9); letters > 0; letters--)
            {
                int id = random.Next(5, vocab);
                if (word.Length > 0 && tokenizer.Token(id) == word[^1].ToString())
                    path.Add(0);
                word += tokenizer.Token(id);
                path.AddRange(Enumerable.Repeat(id, random.Next(1, 5)));
                path.AddRange(Enumerable.Repeat(0, random.Next(0, 3)));
            }
            words.Add(word);
        }
        path.AddRange(Enumerable.Repeat(0, frames - path.Count));
        var logits = new float[frames * vocab];
        for (int t = 0; t < frames; t++)
        {
            for (int k = 0; k < vocab; k++)
                logits[t * vocab + k] = (float)(random.NextDouble() * 4);
            logits[t * vocab + path[t]] += 3f;
        }
        return (logits, string.Join(' ', words));
    }

    private static Wav2Vec2Config SmallConfig(int vocab)
    {
        Wav2Vec2Config config = Wav2Vec2Config.Preset("tiny");
        config.VocabSize = vocab;
        return config;
    }

    // A randomly initialised CTC model of the preset's size with the 32-character English vocabulary.
    private static Wav2Vec2ForCtc RandomCtc(Wav2Vec2Config config)
    {
        CtcTokenizer tokenizer = Vocabulary(32);
        config.VocabSize = tokenizer.Count;
        var model = new Wav2Vec2ForCtc(config, new RandomSource(0)) { Tokenizer = tokenizer };
        model.Train(false);
        return model;
    }

    private static long PeakRssMb()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64 >> 20;
    }
}
