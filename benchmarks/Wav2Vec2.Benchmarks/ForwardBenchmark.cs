using Wav2Vec2.Autograd;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `forward --preset base --seconds 10`: inference of a randomly initialised backbone on random audio (evaluation
/// mode, no tape), the same work as torchaudio's wav2vec2_base forward in shared/tools/reference_speed.py.
/// </summary>
internal static class ForwardBenchmark
{
    public static int Run(BenchmarkOptions options)
    {
        string preset = options.Preset;
        double seconds = options.Seconds(10);
        Wav2Vec2Config config = options.PresetConfig();
        BenchmarkApp.RequireBaseForReference(options);
        var model = new Wav2Vec2Model(config, new RandomSource(0));
        model.Train(false);
        int samples = (int)(seconds * 16000);
        Tensor input = Tensor.FromArray(BenchmarkApp.NoiseAudio(samples, 1), 1, samples);
        double median = BenchmarkApp.MedianSeconds(() =>
        {
            using var arena = new TensorArena();
            using var _ = Tape.NoGrad();
            model.Forward(input);
        }, options.Runs);
        string line = $"forward preset={preset} seconds={BenchmarkApp.Format(seconds)} threads={options.Threads}";
        if (options.Reference)
        {
            double reference = ReferenceRunner.Measure("forward", BenchmarkApp.Format(seconds));
            line += $" reference_median_s={BenchmarkApp.Format(reference)} ratio={BenchmarkApp.Format(median / reference)}";
        }
        Console.WriteLine($"{line} median_s={BenchmarkApp.Format(median)}");
        return 0;
    }
}
