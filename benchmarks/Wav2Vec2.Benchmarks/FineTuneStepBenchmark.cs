using System.Diagnostics;
using System.Globalization;
using Wav2Vec2.Autograd;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `finetunestep --preset base --batch 4 --seconds 5`: one CTC fine-tuning step of Wav2Vec2ForCtc (32 tokens) as the
/// fine-tuner runs it after the frozen phase: conv encoder frozen (feature_grad_mult 0), Transformer and head trained,
/// log-softmax + CTC loss (sum / batch size) against 15 labels per second, Adam; no layer drop and no masking, the work
/// of tools/reference_finetune_step.py's torchaudio step (--reference runs it in the same invocation, interleaved).
/// </summary>
internal static class FineTuneStepBenchmark
{
    public static int Run(BenchmarkOptions options)
    {
        int batch = BenchmarkOptions.ParsePositive("--batch", options.Named.GetValueOrDefault("batch", "4"));
        double seconds = options.Seconds(5);
        Wav2Vec2Config config = options.PresetConfig();
        BenchmarkApp.RequireBaseForReference(options);
        (config.LayerDrop, config.MaskTimeProb, config.HiddenDropout, config.ActivationDropout, config.AttentionDropout) = (0f, 0f, 0.1f, 0.1f, 0.1f);
        var model = new Wav2Vec2ForCtc(config, new RandomSource(0));
        model.Train(true);
        var optimizer = new AdamW(model.Parameters(), new AdamWOptions { LearningRate = 5e-5f, Epsilon = 1e-8f, WeightDecay = 0 });
        int samples = (int)(seconds * 16000), labelLength = (int)(15 * seconds);
        Tensor input = Tensor.FromArray(BenchmarkApp.NoiseAudio(batch * samples, 1), batch, samples);
        var random = new Random(0);
        int[][] labels = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, labelLength).Select(_ => random.Next(1, 32)).ToArray()).ToArray();
        var forward = new Wav2Vec2ForwardOptions { FeatureGradScale = 0f };
        void Step()
        {
            using var arena = new TensorArena();
            using var tape = new Tape();
            Tensor loss = Ops.Scale(model.Forward(input, labels, forward).Loss!, 1f / batch);
            optimizer.ZeroGrad();
            tape.Backward(loss);
            optimizer.Update();
        }
        int runs = options.Named.ContainsKey("runs") ? options.Runs : Math.Min(options.Runs, 3);
        var ours = new List<double>();
        var reference = new List<(double Seconds, long RssMb)>();
        Step();   // warm-up
        for (int round = 0; round < runs; round++)
        {
            ours.Add(BenchmarkApp.MedianOfWarmRuns(Step, 1));
            if (options.Reference)
                reference.Add(Reference(batch, seconds));
        }
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        double median = Median(ours);
        string line = $"finetunestep preset={options.Preset} batch={batch} seconds={BenchmarkApp.Format(seconds)} threads={options.Threads} " +
                      $"peak_rss_mb={process.PeakWorkingSet64 >> 20} median_s={BenchmarkApp.Format(median)}";
        if (options.Reference)
        {
            double referenceMedian = Median(reference.Select(r => r.Seconds).ToList());
            line += $" reference_median_s={BenchmarkApp.Format(referenceMedian)} reference_peak_rss_mb={reference.Max(r => r.RssMb)} " +
                    $"ratio={BenchmarkApp.Format(median / referenceMedian)}";
        }
        Console.WriteLine(line);
        return 0;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    // One reference process per round (its own warm-up step, then one timed step), interleaved with ours.
    private static (double Seconds, long RssMb) Reference(int batch, double seconds)
    {
        string script = ReferenceRunner.FindScript(Path.Combine("tools", "reference_finetune_step.py"), "W2V2_FINETUNE_SCRIPT");
        string output = ReferenceRunner.RunPython(script, batch.ToString(CultureInfo.InvariantCulture),
            BenchmarkApp.Format(seconds), "1");
        string[] fields = ReferenceRunner.LastLine(output).Split(' ');
        return (double.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture));
    }
}
