using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML;
using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `pipeline --preset base --clips 100 --seconds 3 --batch 1`: last-layer mean features of N clips through the ML.NET
/// pipeline (LoadFromEnumerable of 16 kHz samples -> Wav2Vec2Features, read by a cursor) against the core library's
/// own batch extraction (Wav2Vec2Model.ExtractHiddenStates + mean over frames) with the same model, batch size and
/// threads. The two alternate run by run; medians and their ratio are printed.
/// </summary>
internal static class PipelineBenchmark
{
    private sealed class Row
    {
        public float[] Audio { get; set; } = [];
    }

    public static int Run(BenchmarkOptions options)
    {
        double seconds = options.Seconds(3);
        int clips = options.Named.TryGetValue("clips", out string? c) ? BenchmarkOptions.ParsePositive("--clips", c) : 100;
        int batch = options.Named.TryGetValue("batch", out string? b) ? BenchmarkOptions.ParsePositive("--batch", b) : 1;
        var model = new Wav2Vec2Model(options.PresetConfig(), new RandomSource(0));
        model.Train(false);
        var rows = Enumerable.Range(0, clips)
            .Select(i => new Row { Audio = BenchmarkApp.NoiseAudio((int)(seconds * 16000), (ulong)i + 1, 0.1f) }).ToList();
        var audio = rows.Select(r => new AudioClip(r.Audio, 16000)).ToList();
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        var features = ml.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions { Model = model, BatchSize = batch }).Fit(data);

        float checksumCore = 0, checksumPipeline = 0;
        void Core()
        {
            int layer = model.Config.NumHiddenLayers;
            foreach (Tensor[] states in model.ExtractHiddenStates(audio, [layer], batch))
                checksumCore += MeanOfFirstUnit(states[0]);
        }
        void Pipeline()
        {
            IDataView transformed = features.Transform(data);
            using DataViewRowCursor cursor = transformed.GetRowCursor([transformed.Schema["Features"]]);
            var getter = cursor.GetGetter<VBuffer<float>>(transformed.Schema["Features"]);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                checksumPipeline += value.GetValues()[0];
            }
        }

        Core();
        Pipeline();
        var core = new double[options.Runs];
        var pipeline = new double[options.Runs];
        for (int run = 0; run < options.Runs; run++)
        {
            core[run] = Time(Core);
            pipeline[run] = Time(Pipeline);
        }
        Array.Sort(core);
        Array.Sort(pipeline);
        double coreMedian = core[options.Runs / 2], pipelineMedian = pipeline[options.Runs / 2];
        Console.WriteLine($"pipeline preset={options.Preset} clips={clips} seconds={BenchmarkApp.Format(seconds)} batch={batch} " +
                          $"threads={options.Threads} core_median_s={BenchmarkApp.Format(coreMedian)} " +
                          $"core_clips_per_s={BenchmarkApp.Format(clips / coreMedian)} pipeline_clips_per_s={BenchmarkApp.Format(clips / pipelineMedian)} " +
                          $"ratio={BenchmarkApp.Format(pipelineMedian / coreMedian)} same_values={Math.Abs(checksumCore - checksumPipeline) <= 1e-3 * Math.Abs(checksumCore)} " +
                          $"median_s={BenchmarkApp.Format(pipelineMedian)}");
        return 0;
    }

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static float MeanOfFirstUnit(Tensor frames)
    {
        double sum = 0;
        for (int t = 0; t < frames.Size(0); t++)
            sum += frames[t, 0];
        return (float)(sum / frames.Size(0));
    }
}
