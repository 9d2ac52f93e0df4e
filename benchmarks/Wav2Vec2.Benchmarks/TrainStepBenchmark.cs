using System.Diagnostics;
using Wav2Vec2.Autograd;
using Wav2Vec2.Diagnostics;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `trainstep --preset base --batch 4 --seconds 5`: one forward + backward + AdamW update of the backbone with a
/// 32-way linear head and a mean-square loss in training mode (dropout, layer drop), the work of reference_speed.py's
/// torchaudio wav2vec2_base(aux_num_out=32) step with Adam.
/// </summary>
internal static class TrainStepBenchmark
{
    public static int Run(BenchmarkOptions options)
    {
        string preset = options.Preset;
        int batch = BenchmarkOptions.ParsePositive("--batch", options.Named.GetValueOrDefault("batch", "4"));
        double seconds = options.Seconds(5);
        Wav2Vec2Config config = options.PresetConfig();
        BenchmarkApp.RequireBaseForReference(options);
        var random = new RandomSource(0);
        var model = new Wav2Vec2Model(config, random);
        var head = new Nn.Linear(config.HiddenSize, 32, random);
        var optimizer = new AdamW([.. model.Parameters(), .. head.Parameters()], new AdamWOptions { LearningRate = 1e-4f, WeightDecay = 0 });
        int samples = (int)(seconds * 16000);
        Tensor input = Tensor.FromArray(BenchmarkApp.NoiseAudio(batch * samples, 1), batch, samples);
        int runs = options.Named.ContainsKey("runs") ? options.Runs : Math.Min(options.Runs, 5);
        void Step()
        {
            using var arena = new TensorArena();
            using var tape = new Tape();
            Tensor hidden = model.Forward(input).LastHiddenState;
            Tensor loss;
            using (StageProfiler.Enter("head, loss"))
            {
                Tensor y = head.Forward(hidden);
                loss = Ops.Mean(Ops.Multiply(y, y));
            }
            using (StageProfiler.Enter("optimizer"))
                optimizer.ZeroGrad();
            tape.Backward(loss);
            using (StageProfiler.Enter("optimizer"))
                optimizer.Update();
        }
        if (options.Profile)
        {
            ProfileReport.Run($"trainstep preset={preset} batch={batch} seconds={BenchmarkApp.Format(seconds)}", Step, runs);
            return 0;
        }
        double median = BenchmarkApp.MedianSeconds(Step, runs);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        string line = $"trainstep preset={preset} batch={batch} seconds={BenchmarkApp.Format(seconds)} threads={options.Threads} " +
                      $"peak_rss_mb={process.PeakWorkingSet64 >> 20} pool_peak_mb={Wav2Vec2.Kernels.BufferPool.PeakInUseBytes >> 20} " +
                      $"gc_heap_mb={GC.GetGCMemoryInfo().HeapSizeBytes >> 20}";
        if (options.Reference)
        {
            double reference = ReferenceRunner.Measure("trainstep", batch.ToString(), BenchmarkApp.Format(seconds));
            line += $" reference_median_s={BenchmarkApp.Format(reference)} reference_peak_rss_mb={ReferenceRunner.ChildrenPeakRssMb()} " +
                    $"ratio={BenchmarkApp.Format(median / reference)}";
        }
        Console.WriteLine($"{line} median_s={BenchmarkApp.Format(median)}");
        return 0;
    }
}
