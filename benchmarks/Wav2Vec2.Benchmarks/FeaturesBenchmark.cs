using System.Diagnostics;
using Wav2Vec2.Audio;
using Wav2Vec2.IO;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `features --preset base --seconds 600`: last-layer features of a long synthetic recording through the chunked API
/// (30 s windows, 5 s context), streamed to a temporary .npy file as `w2v2 features` does; prints the wall time,
/// real-time factor and the process's peak resident set size.
/// </summary>
internal static class FeaturesBenchmark
{
    public static int Run(BenchmarkOptions options)
    {
        string preset = options.Preset;
        double seconds = options.Seconds(600);
        Wav2Vec2Config config = options.PresetConfig();
        var model = new Wav2Vec2Model(config, new RandomSource(0));
        model.Train(false);
        model.UsePrecision(options.Precision());
        float[] samples = BenchmarkApp.NoiseAudio((int)(seconds * 16000), 1, 0.1f);
        string path = Path.Combine(Path.GetTempPath(), $"w2v2-features-{Environment.ProcessId}.npy");
        try
        {
            var clock = Stopwatch.StartNew();
            int frames = Npy.WriteRows(path, config.HiddenSize,
                append => model.StreamFeatures(new AudioClip(samples, 16000), append));
            double elapsed = clock.Elapsed.TotalSeconds;
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            Console.WriteLine($"features preset={preset} seconds={BenchmarkApp.Format(seconds)} precision={options.Named.GetValueOrDefault("precision", "fp32")} frames={frames} " +
                              $"npy_mb={new FileInfo(path).Length >> 20} " +
                              $"realtime_factor={BenchmarkApp.Format(seconds / elapsed)} peak_rss_mb={process.PeakWorkingSet64 >> 20} " +
                              $"pooled_mb={Wav2Vec2.Kernels.BufferPool.PooledBytes >> 20} " +
                              $"median_s={BenchmarkApp.Format(elapsed)}");
        }
        finally
        {
            File.Delete(path);
        }
        return 0;
    }
}
