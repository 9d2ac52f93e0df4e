using System.Diagnostics;
using Wav2Vec2.Diagnostics;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `--profile`: warms a benchmark's step up (<see cref="BenchmarkApp.WarmUp"/>), then runs it <c>runs</c> times under
/// <see cref="StageProfiler"/>, and prints the mean seconds per step of every (phase, stage) row with its share of the step, plus garbage-collector
/// pauses. Rows are self time: a stage's nested stages (norms, copies, allocation) are counted in their own rows.
/// </summary>
internal static class ProfileReport
{
    public static void Run(string title, Action step, int runs)
    {
        BenchmarkApp.WarmUp(step);
        TimeSpan pausesBefore = GC.GetTotalPauseDuration();
        long start = Stopwatch.GetTimestamp();
        StageProfiler.Start();
        try
        {
            for (int i = 0; i < runs; i++)
                step();
        }
        finally
        {
            StageProfiler.Stop();
        }
        double total = Stopwatch.GetElapsedTime(start).TotalSeconds / runs;
        double gc = (GC.GetTotalPauseDuration() - pausesBefore).TotalSeconds / runs;
        Console.WriteLine($"profile {title} cpu=\"{CpuName()}\" runs={runs} mean_step_s={BenchmarkApp.Format(total)} " +
                          $"gc_pause_s={BenchmarkApp.Format(gc)}");
        Console.WriteLine($"  {"phase",-9} {"stage",-22} {"s/step",9} {"share",7} {"calls/step",11}");
        foreach ((string phase, string stage, double seconds, long calls) in StageProfiler.Results())
            Console.WriteLine($"  {phase,-9} {stage,-22} {seconds / runs,9:0.0000} {seconds / runs / total,7:P1} " +
                              $"{(double)calls / runs,11:0.#}");
    }

    /// <summary>The CPU's model name, family and model from /proc/cpuinfo (Linux), else the processor architecture.</summary>
    public static string CpuName()
    {
        try
        {
            string[] lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToArray();
            string Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + "\t", StringComparison.Ordinal)) is string l
                ? l[(l.IndexOf(':') + 1)..].Trim() : "?";
            if (lines.Length > 0)
                return $"{Field("model name")} family {Field("cpu family")} model {Field("model")}";
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
