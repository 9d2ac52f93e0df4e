using System.Diagnostics;
using System.Globalization;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// Runs shared/tools/reference_speed.py (Debian's python3 with PyTorch, numpy and OpenBLAS) so that our figure and
/// the reference's are measured in the same run on the same machine, and the tools/ scripts the benchmarks need.
/// </summary>
internal static class ReferenceRunner
{
    private const string Python = "/usr/bin/python3";

    public static double Measure(params string[] arguments)
    {
        string output = RunPython(FindScript(Path.Combine("shared", "tools", "reference_speed.py"), "W2V2_REFERENCE_SCRIPT"),
            arguments);
        string last = LastLine(output);
        return double.TryParse(last, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value
            : throw new BenchmarkUsageException($"reference run printed '{last}', not a number");
    }

    /// <summary>Runs a Python script to completion and returns its standard output; fails with its last error line.</summary>
    public static string RunPython(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)
            ?? throw new BenchmarkUsageException($"could not start {Python}");
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new BenchmarkUsageException(
                $"{Path.GetFileName(script)} failed (exit {process.ExitCode}): {LastLine(error.Result)}");
        return output;
    }

    /// <summary>The last line of a script's output (where the reference scripts print their result).</summary>
    public static string LastLine(string output) => output.Trim().Split('\n').LastOrDefault() ?? "";

    /// <summary>
    /// The largest resident set of any child process waited for so far, in MB (Linux getrusage(RUSAGE_CHILDREN)), or -1
    /// elsewhere: the reference's peak memory, read after it has exited.
    /// </summary>
    public static unsafe long ChildrenPeakRssMb()
    {
        if (!OperatingSystem.IsLinux())
            return -1;
        // struct rusage on 64-bit Linux: two struct timeval (16 bytes each), then ru_maxrss in KB.
        byte* usage = stackalloc byte[256];
        return GetResourceUsage(-1, usage) == 0 ? *(long*)(usage + 32) >> 10 : -1;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern unsafe int GetResourceUsage(int who, byte* usage);

    /// <summary>
    /// <paramref name="relativePath"/> in the first directory above the benchmark's binaries that has it (the checkout,
    /// or its parent for shared/), unless the environment variable <paramref name="variable"/> names the file.
    /// </summary>
    public static string FindScript(string relativePath, string variable)
    {
        string? configured = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(configured))
            return configured;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relativePath);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new BenchmarkUsageException($"{relativePath} not found above the benchmark's binaries; set {variable}");
    }
}
