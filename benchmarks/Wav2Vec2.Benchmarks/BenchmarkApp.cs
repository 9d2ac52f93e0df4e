using System.Diagnostics;
using System.Globalization;

namespace Wav2Vec2.Benchmarks;

/// <summary>Command-line benchmarks; each prints one result line of key=value pairs.</summary>
internal static class BenchmarkApp
{
    private const string Usage = """
        Usage: Wav2Vec2.Benchmarks <benchmark> [arguments] [--runs N] [--threads N] [--reference]

        Benchmarks:
          gemm M N K     C = A(MxK) * B(KxN), float32, all cores; prints gflops=<median GFLOP/s>
                         (a wav2vec 2.0 feed-forward shape is 499 3072 768)
          forward [--preset base|large|tiny] [--seconds S] [--family hubert|data2vec-audio|wavlm]
                         backbone inference on S seconds of 16 kHz audio (default base, 10 s); prints
                         median_s=<seconds>; --reference: torchaudio wav2vec2_base in Debian's PyTorch;
                         --reference-ort: the same weights exported to ONNX by our exporter (cached) and
                         run by ONNX Runtime in this process, interleaved with ours; --ort-torchaudio yes:
                         also torchaudio's export of them (tools/export_onnx.py, Debian's PyTorch); --family: the
                         preset's size as that family against wav2vec2, interleaved (family_ratio);
                         --precision int8|bf16: that model against the same weights in fp32 (and ONNX Runtime
                         fp32 with --reference-ort), interleaved, with its output's cosine to fp32
          int8-accuracy --model DIR --data SET
                         a fine-tuned CTC model in fp32 and in int8 on a labeled set: greedy CER and WER of
                         both, CTC argmax agreement per frame, per-layer cosine and relative error
          features [--preset base] [--seconds S] [--precision int8|bf16]
                         chunked feature extraction of an S-second recording (default 600) in one run;
                         prints peak_rss_mb=<MB> and the real-time factor
          pipeline [--preset base] [--clips N] [--seconds S] [--batch B]
                         last-layer mean features of N clips of S seconds (default 100 x 3) through the
                         ML.NET pipeline (Wav2Vec2Features) against the core library's batch extraction
                         (ExtractHiddenStates) in the same run, alternating; prints both rates and the ratio
          trainstep [--preset base] [--batch B] [--seconds S]
                         forward + backward + AdamW of the backbone with a 32-way head and a mean-square
                         loss on B x S seconds (default 4 x 5; at most 5 runs unless --runs is given);
                         --reference: torchaudio wav2vec2_base with Adam in Debian's PyTorch
          finetunestep [--preset base] [--batch B] [--seconds S]
                         one CTC fine-tuning step of Wav2Vec2ForCtc (conv encoder frozen, Transformer and
                         head trained, Adam) on B x S seconds (default 4 x 5; 3 rounds); prints peak_rss_mb;
                         --reference: torchaudio wav2vec2_base + ctc_loss + Adam (tools/reference_finetune_step.py),
                         one process per round, interleaved
          decode [--seconds S] [--beam-width N] [--lm FILE] [--beam-threshold X|inf] [--token-min-logp X|inf]
                         CTC beam search with an n-gram LM on synthetic peaked logits of an S-second
                         utterance (default 30 s, width 100, 32-token vocabulary, the committed test LM,
                         threshold 10, tokens down to log-probability -5); prints realtime_factor=<audio s per s>
          align [--seconds S] [--vocab V]
                         forced alignment of S seconds (default 600) of synthetic emissions over V characters
                         (default 60): exact and windowed, their real-time factors and boundary differences
          align --audio FILE --text-file F [--model DIR | --preset base] [--compare]
                         forced alignment of a recording (model and alignment times, peak RSS); --compare also
                         aligns exactly and reports the windowed alignment's boundary differences
          resample INPUT REFERENCE... [--rate R]
                         our resampler and NAudio's WDL resampler (default and sinc modes) against references at
                         rate R (default 16000; tools/compare-resamplers.sh makes sox VHQ and torchaudio ones):
                         error energy in dB relative to each reference, and speed
          audiodecode FILE [--wav ORIGINAL.wav] [--preset base]
                         decoding FILE (MP3, Ogg, ...) with AudioFile against ffmpeg -f f32le, interleaved;
                         --wav: relative difference of a random model's hidden states on FILE and on the WAV
          mms --dir DIR [--seconds S]
                         a random model of mms-1b-all's size: the first call writes it to DIR; each later call
                         loads it with its "eng" adapter and transcribes S seconds (default 10): load and
                         transcription times and peak_rss_mb
          twin-replay --model DIR --recipe recipe.json --batches INPUTS --out RUN [--ours batches,masks,negatives,noise]
                      [--data DIR] [--seed S]
                         trains our engine on the inputs tools/pretrain_twin.py sampled (sample, or train --dump)
                         with the twin's update rule: the twin's run at our speed (tools/twin-dynamics.sh);
                         --ours: draw those parts with our samplers instead (batches: from --data, as w2v2 pretrain)
          weights --dir DIR [--preset P] [--load fp32|quantised|int8-dir|bf16-dir] [--seconds S]
                         the first call writes a random backbone to DIR/fp32, DIR/int8 and DIR/bf16;
                         each later call loads one form and prints the weight bytes held, file size, peak_rss_mb
          lmload FILE    loads an ARPA file once (make a big one with tools/make-big-arpa.py); prints
                         bytes_per_ngram and peak_rss_mb

        Options:
          --runs N       timed repetitions after warm-up (default 7; each measured action is first called for 1.5 s,
                         at least once, so that tiered compilation has optimised it); the median is reported
          --threads N    degree of parallelism (default: all cores)
          --kernels P    kernel path: auto (default), avx512, avx2, vector128 or scalar
          --int8-kernels P  int8 kernel path: avx512vnni, avxvnni, avx512, avx2 or scalar (default: the best this CPU runs)
          --profile      forward, trainstep: time each stage (conv encoder, attention, feed-forward, norms,
                         copies, allocation; forward and backward) instead of the plain median
          --reference    also measure the reference (numpy + OpenBLAS through Debian's python3, see
                         shared/tools/reference_speed.py) in the same run and print the ratio
          --help         this text
        """;

    public static int Run(string[] args)
    {
        try
        {
            var options = BenchmarkOptions.Parse(args);
            if (options.ShowHelp)
            {
                Console.WriteLine(Usage);
                return 0;
            }
            Wav2Vec2.Threading.Parallelism.DegreeOfParallelism = options.Threads;
            if (options.Named.TryGetValue("kernels", out string? kernels))
                Wav2Vec2.Kernels.KernelPaths.Requested = Parse(() => Wav2Vec2.Kernels.KernelPaths.Parse(kernels));
            if (options.Named.TryGetValue("int8-kernels", out string? int8Kernels))
                Wav2Vec2.Kernels.Int8Gemm.Requested = Enum.TryParse(int8Kernels, ignoreCase: true, out Wav2Vec2.Kernels.Int8Path int8Path)
                    && Wav2Vec2.Kernels.Int8Gemm.Supported(int8Path) ? int8Path
                    : throw new BenchmarkUsageException($"--int8-kernels must be one of avx512vnni, avxvnni, avx512, avx2, scalar that this CPU runs, got '{int8Kernels}'");
            Console.WriteLine($"cpu=\"{ProfileReport.CpuName()}\" kernels={Wav2Vec2.Kernels.KernelPaths.Effective} " +
                              $"threads={options.Threads}");
            return options.Benchmark switch
            {
                "gemm" => GemmBenchmark.Run(options),
                "forward" => ForwardBenchmark.Run(options),
                "features" => FeaturesBenchmark.Run(options),
                "trainstep" => TrainStepBenchmark.Run(options),
                "finetunestep" => FineTuneStepBenchmark.Run(options),
                "decode" => DecodeBenchmark.RunDecode(options),
                "lmload" => DecodeBenchmark.RunLoad(options),
                "pipeline" => PipelineBenchmark.Run(options),
                "align" => AlignBenchmark.Run(options),
                "mms" => MmsBenchmark.Run(options),
                "twin-replay" => TwinReplay.Run(options),
                "weights" => WeightMemoryBenchmark.Run(options),
                "int8-accuracy" => Int8AccuracyBenchmark.Run(options),
                "resample" => AudioBenchmark.RunResample(options),
                "audiodecode" => AudioBenchmark.RunDecode(options),
                _ => throw new BenchmarkUsageException($"unknown benchmark '{options.Benchmark}' (see --help)"),
            };
        }
        catch (BenchmarkUsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }

    /// <summary>Median wall time in seconds of <paramref name="runs"/> calls after the warm-up.</summary>
    public static double MedianSeconds(Action action, int runs) => InterleavedMedians(runs, action)[0];

    /// <summary>
    /// Rest before each timed turn when another engine takes turns too: ONNX Runtime's and OpenBLAS's worker threads spin
    /// for a while after a run and would take the cores from the next one. (Not between our own runs: waking parked
    /// workers would cost a short product more than it measures.)
    /// </summary>
    public const int SettleMilliseconds = 200;

    /// <summary>
    /// Median wall times of several actions measured in turns (each warmed up, then <paramref name="runs"/>
    /// rounds that call every action once), so that a slow phase of a shared machine hits them alike.
    /// </summary>
    public static double[] InterleavedMedians(int runs, params Action[] actions) => Interleaved(runs, actions, 0);

    /// <summary><see cref="InterleavedMedians"/> with <see cref="SettleMilliseconds"/> of rest before each timed turn.</summary>
    public static double[] InterleavedMediansWithOtherEngines(int runs, params Action[] actions) =>
        Interleaved(runs, actions, SettleMilliseconds);

    // Tiered compilation optimises a method after about 30 calls, in the background, so one warm-up call leaves a short
    // action's helpers unoptimised for the first timed runs.
    private const double WarmUpSeconds = 1.5;

    /// <summary>Calls <paramref name="action"/> for 1.5 s (at least once), so that tiered compilation has optimised it.</summary>
    public static void WarmUp(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        do
            action();
        while (Stopwatch.GetElapsedTime(start).TotalSeconds < WarmUpSeconds);
    }

    /// <summary>Median wall time in seconds of <paramref name="runs"/> calls of an action already warmed up.</summary>
    public static double MedianOfWarmRuns(Action action, int runs)
    {
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return Median(times);
    }

    private static double[] Interleaved(int runs, Action[] actions, int restMilliseconds)
    {
        foreach (Action action in actions)
            WarmUp(action);
        var times = new double[actions.Length][];
        for (int a = 0; a < actions.Length; a++)
            times[a] = new double[runs];
        for (int i = 0; i < runs; i++)
            for (int a = 0; a < actions.Length; a++)
            {
                Thread.Sleep(restMilliseconds);
                long start = Stopwatch.GetTimestamp();
                actions[a]();
                times[a][i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        return times.Select(Median).ToArray();
    }

    /// <summary>The middle value (the upper one of an even count).</summary>
    public static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);

    /// <summary>Gaussian noise standing in for audio: <paramref name="count"/> samples of standard deviation <paramref name="scale"/>.</summary>
    public static float[] NoiseAudio(int count, ulong seed, float scale = 1f)
    {
        var random = new Wav2Vec2.Tensors.RandomSource(seed);
        var audio = new float[count];
        for (int i = 0; i < count; i++)
            audio[i] = scale * random.NextNormal();
        return audio;
    }

    /// <summary>Fails unless the preset is base, which is what the reference script measures.</summary>
    public static void RequireBaseForReference(BenchmarkOptions options)
    {
        if (options.Reference && options.Preset != "base")
            throw new BenchmarkUsageException("--reference compares with torchaudio's wav2vec2_base: use --preset base");
    }

    private static T Parse<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            throw new BenchmarkUsageException(e.Message);
        }
    }

    public static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
