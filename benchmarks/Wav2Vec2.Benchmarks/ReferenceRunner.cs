using System.Diagnostics;
using System.Globalization;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// Runs shared/tools/reference_speed.py or one of tools/reference_*.py (Debian's python3 with PyTorch, numpy and OpenBLAS) so that our figure and
/// the reference's are measured in the same run on the same machine.
/// </summary>
internal static class ReferenceRunner
{
    private const string Python = "/usr/bin/python3";

    public static double Measure(params string[] arguments)
    {
        string last = Run(FindScript(), arguments);
        return double.TryParse(last, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value
            : throw new BenchmarkUsageException($"reference run printed '{last}', not a number");
    }

    /// <summary>Runs one of this repository's tools/ scripts (found above the benchmark's folder) and returns its last line.</summary>
    public static string RunScript(string relativePath, params string[] arguments)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, relativePath)))
                return Run(Path.Combine(dir.FullName, relativePath), arguments);
        throw new BenchmarkUsageException($"{relativePath} not found above {AppContext.BaseDirectory}");
    }

    private static string Run(string script, string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)
            ?? throw new BenchmarkUsageException($"could not start {Python}");
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new BenchmarkUsageException(
                $"reference run failed (exit {process.ExitCode}): {error.Trim().Split('\n').LastOrDefault()}");
        return output.Trim().Split('\n').LastOrDefault() ?? "";
    }

    private static string FindScript()
    {
        string? configured = Environment.GetEnvironmentVariable("W2V2_REFERENCE_SCRIPT");
        if (!string.IsNullOrEmpty(configured))
            return configured;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "tools", "reference_speed.py");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new BenchmarkUsageException(
            "shared/tools/reference_speed.py not found beside the checkout; set W2V2_REFERENCE_SCRIPT");
    }
}
