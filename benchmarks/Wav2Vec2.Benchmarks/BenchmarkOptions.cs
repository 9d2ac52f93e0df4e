using System.Globalization;

namespace Wav2Vec2.Benchmarks;

/// <summary>A mistake in the benchmark's command line; reported as one line, exit code 2.</summary>
internal sealed class BenchmarkUsageException(string message) : Exception(message);

/// <summary>Parsed command line: the benchmark name, its positional arguments and the shared options.</summary>
internal sealed record BenchmarkOptions(string Benchmark, IReadOnlyList<string> Positional, int Runs, int Threads,
    bool Reference, bool ReferenceOrt, bool Profile, bool ShowHelp, IReadOnlyDictionary<string, string> Named)
{
    public static BenchmarkOptions Parse(string[] args)
    {
        var positional = new List<string>();
        var named = new Dictionary<string, string>();
        int runs = 7, threads = Environment.ProcessorCount;
        bool reference = false, referenceOrt = false, profile = false, help = args.Length == 0;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "--help" or "-h":
                    help = true;
                    break;
                case "--reference":
                    reference = true;
                    break;
                case "--reference-ort":
                    referenceOrt = true;
                    break;
                case "--transpose-a" or "--transpose-b" or "--compare":
                    named[arg[2..]] = "";
                    break;
                case "--profile":
                    profile = true;
                    break;
                case "--runs":
                    runs = ParsePositive(arg, Next(args, ref i));
                    named["runs"] = runs.ToString(CultureInfo.InvariantCulture);
                    break;
                case "--threads":
                    threads = ParsePositive(arg, Next(args, ref i));
                    break;
                default:
                    if (arg.StartsWith("--", StringComparison.Ordinal))
                        named[arg[2..]] = Next(args, ref i);
                    else
                        positional.Add(arg);
                    break;
            }
        }
        string benchmark = positional.Count > 0 ? positional[0] : "";
        return new BenchmarkOptions(benchmark, positional.Skip(1).ToList(), runs, threads, reference, referenceOrt, profile, help, named);
    }

    /// <summary>The --preset value (default base).</summary>
    public string Preset => Named.GetValueOrDefault("preset", "base");

    /// <summary>The model configuration of <see cref="Preset"/>.</summary>
    public Wav2Vec2.Models.Wav2Vec2Config PresetConfig()
    {
        try
        {
            return Wav2Vec2.Models.Wav2Vec2Config.Preset(Preset);
        }
        catch (ArgumentException e)
        {
            throw new BenchmarkUsageException(e.Message);
        }
    }

    /// <summary>--precision fp32 (default), int8 or bf16.</summary>
    public Wav2Vec2.Nn.Precision Precision() => Named.GetValueOrDefault("precision", "fp32") switch
    {
        "fp32" => Wav2Vec2.Nn.Precision.Float32,
        "int8" => Wav2Vec2.Nn.Precision.Int8,
        "bf16" => Wav2Vec2.Nn.Precision.BFloat16,
        string other => throw new BenchmarkUsageException($"--precision must be fp32, int8 or bf16, got '{other}'"),
    };

    /// <summary>True for --precision int8.</summary>
    public bool Int8() => Precision() == Wav2Vec2.Nn.Precision.Int8;

    /// <summary>The --seconds value, or <paramref name="fallback"/>.</summary>
    public double Seconds(double fallback) => !Named.TryGetValue("seconds", out string? text) ? fallback
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0 ? value
        : throw new BenchmarkUsageException($"--seconds must be a positive number, got '{text}'");

    public int PositionalInt(int index, string name) => index < Positional.Count
        ? ParsePositive(name, Positional[index])
        : throw new BenchmarkUsageException($"{Benchmark}: missing argument {name}");

    private static string Next(string[] args, ref int i) => i + 1 < args.Length
        ? args[++i]
        : throw new BenchmarkUsageException($"{args[i]} needs a value");

    internal static int ParsePositive(string name, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new BenchmarkUsageException($"{name} must be a positive integer, got '{text}'");
}
