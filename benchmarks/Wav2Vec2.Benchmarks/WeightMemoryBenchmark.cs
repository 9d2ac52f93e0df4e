using System.Diagnostics;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `weights --dir DIR [--preset large] [--load fp32|quantised|int8-dir|bf16-dir] [--seconds S]`: the memory of a
/// model's weights. The first call writes a random backbone of the preset to DIR/fp32 and, with SavePretrained(...,
/// precision), DIR/int8 and DIR/bf16, and stops; each later call, a fresh process, loads one form (fp32; fp32 quantised
/// in memory with UsePrecision(Int8); the int8 or bf16 directory), runs S seconds of noise once and prints the weight
/// bytes it holds (fp32 values not released plus the int8 and bf16 forms), the file bytes, the load and forward times
/// and the process's peak RSS.
/// </summary>
internal static class WeightMemoryBenchmark
{
    public static int Run(BenchmarkOptions options)
    {
        string directory = options.Named.GetValueOrDefault("dir") ?? throw new BenchmarkUsageException("weights needs --dir DIR");
        string fp32 = Path.Combine(directory, "fp32"), int8 = Path.Combine(directory, "int8"), bf16 = Path.Combine(directory, "bf16");
        if (!File.Exists(Path.Combine(bf16, "config.json")))
        {
            var created = new Wav2Vec2Model(Wav2Vec2Config.Preset(options.Preset), new RandomSource(0));
            created.SavePretrained(fp32);
            created.SavePretrained(int8, Precision.Int8);
            created.SavePretrained(bf16, Precision.BFloat16);
            Console.WriteLine($"weights wrote={directory} preset={options.Preset} parameters={created.ParameterCount()}");
            return 0;
        }
        string load = options.Named.GetValueOrDefault("load", "fp32");
        long start = Stopwatch.GetTimestamp();
        Wav2Vec2Model model = load switch
        {
            "fp32" or "quantised" => Wav2Vec2Model.FromPretrained(fp32),
            "int8-dir" => Wav2Vec2Model.FromPretrained(int8),
            "bf16-dir" => Wav2Vec2Model.FromPretrained(bf16),
            _ => throw new BenchmarkUsageException($"--load {load}: fp32, quantised, int8-dir or bf16-dir"),
        };
        if (load == "quantised")
            model.UsePrecision(Precision.Int8);
        double loadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double seconds = options.Seconds(10);
        Tensor audio = Tensor.FromArray(BenchmarkApp.NoiseAudio((int)(seconds * 16000), 1), 1, (int)(seconds * 16000));
        start = Stopwatch.GetTimestamp();
        using (new TensorArena())
            model.Forward(audio);
        double forwardSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long fp32Bytes = model.NamedParameters().Where(p => p.Parameter.HeldPrecision == null).Sum(p => 4L * p.Parameter.Length);
        long reducedBytes = model.Int8Weights().Sum(w => w.Weight.Bytes) + model.Bf16Weights().Sum(w => w.Weight.Bytes);
        long allFp32 = 4 * model.ParameterCount();
        long fileBytes = Directory.GetFiles(load switch { "int8-dir" => int8, "bf16-dir" => bf16, _ => fp32 }, "model.safetensors").Sum(f => new FileInfo(f).Length);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine($"weights preset={options.Preset} load={load} held_mb={(fp32Bytes + reducedBytes) >> 20} (fp32 {fp32Bytes >> 20} + reduced {reducedBytes >> 20}) " +
                          $"ratio_to_fp32={BenchmarkApp.Format((double)(fp32Bytes + reducedBytes) / allFp32)} file_mb={fileBytes >> 20} " +
                          $"load_s={BenchmarkApp.Format(loadSeconds)} forward_s={BenchmarkApp.Format(forwardSeconds)} peak_rss_mb={process.PeakWorkingSet64 >> 20}");
        return 0;
    }
}
