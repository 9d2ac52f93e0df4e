using System.Diagnostics;
using System.Globalization;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// Runs shared/tools/reference_speed.py (Debian's python3 with PyTorch, numpy and OpenBLAS) so that our figure and
/// the reference's are measured in the same run on the same machine.
/// </summary>
internal static class ReferenceRunner
{
    private const string Python = "/usr/bin/python3";

    public static double Measure(params string[] arguments)
    {
        string script = FindScript();
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)
            ?? throw new BenchmarkUsageException($"could not start {Python}");
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        string last = output.Trim().Split('\n').LastOrDefault() ?? "";
        if (process.ExitCode != 0 || !double.TryParse(last, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            throw new BenchmarkUsageException(
                $"reference run failed (exit {process.ExitCode}): {error.Trim().Split('\n').LastOrDefault()}");
        return value;
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
