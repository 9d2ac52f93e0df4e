using System.Diagnostics;
using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `mms --dir DIR [--seconds S]`: a randomly initialised model of mms-1b-all's architecture (48 pre-LN layers of 1280,
/// layer-norm conv encoder, adapters of width 16 in every layer, an "eng" adapter file and vocabulary). The first call
/// writes it to DIR and stops; the next calls, each a fresh process, load it by language, transcribe S seconds of
/// noise and print the load and transcription times and the process's peak RSS (the 24 GB bound).
/// </summary>
internal static class MmsBenchmark
{
    public static int Run(BenchmarkOptions options)
    {
        string directory = options.Named.GetValueOrDefault("dir") ?? throw new BenchmarkUsageException("mms needs --dir DIR");
        if (!File.Exists(Path.Combine(directory, "config.json")))
            return Write(directory);
        double seconds = options.Seconds(10);
        long start = Stopwatch.GetTimestamp();
        SpeechRecognizer recognizer = SpeechRecognizer.FromPretrained(directory, language: "eng");
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;
        int samples = (int)(seconds * 16000);
        var clip = new AudioClip(BenchmarkApp.NoiseAudio(samples, 1), 16000);
        start = Stopwatch.GetTimestamp();
        string text = recognizer.Transcribe(clip);
        double transcribe = Stopwatch.GetElapsedTime(start).TotalSeconds;
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine($"mms seconds={BenchmarkApp.Format(seconds)} threads={options.Threads} load_s={BenchmarkApp.Format(load)} " +
                          $"transcribe_s={BenchmarkApp.Format(transcribe)} characters={text.Length} peak_rss_mb={process.PeakWorkingSet64 >> 20}");
        return 0;
    }

    private static int Write(string directory)
    {
        var config = Wav2Vec2Config.Preset("large");
        (config.HiddenSize, config.NumHiddenLayers, config.NumAttentionHeads, config.IntermediateSize) = (1280, 48, 16, 5120);
        (config.FeatExtractNorm, config.DoStableLayerNorm, config.ConvBias, config.AdapterAttnDim) = (FeatureEncoderNorm.Layer, true, true, 16);
        string letters = "|abcdefghijklmnopqrstuvwxyz'";
        var vocabulary = new Dictionary<string, int> { ["<pad>"] = 0, ["<s>"] = 1, ["</s>"] = 2, ["<unk>"] = 3 };
        foreach (char c in letters)
            vocabulary[c.ToString()] = vocabulary.Count;
        config.VocabSize = vocabulary.Count;
        var model = new Wav2Vec2ForCtc(config, new RandomSource(0)) { Tokenizer = new CtcTokenizer(vocabulary), TargetLanguage = "eng" };
        long start = Stopwatch.GetTimestamp();
        model.SavePretrained(directory);
        long bytes = Directory.GetFiles(directory).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"mms wrote={directory} parameters={model.ParameterCount()} bytes={bytes} write_s={BenchmarkApp.Format(Stopwatch.GetElapsedTime(start).TotalSeconds)}");
        return 0;
    }
}
