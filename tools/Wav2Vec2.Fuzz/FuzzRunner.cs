using Wav2Vec2.Cli;

namespace Wav2Vec2.Fuzz;

/// <summary>One run of the CLI on a mutant: its arguments, the path an error must name, the .npy it may write.</summary>
public sealed record Invocation(string[] Args, string Subject, string? OutputNpy = null);

/// <summary>A mutant: its class (what was mutated), a description, and how to write it into a work directory.</summary>
public sealed record Mutant(string Class, string Description, Func<string, Invocation> Write);

/// <summary>What became of the mutants of one class.</summary>
public sealed class ClassReport(string name)
{
    /// <summary>The mutation class.</summary>
    public string Name { get; } = name;
    /// <summary>Mutants run.</summary>
    public int Cases { get; set; }
    /// <summary>One-line errors naming the file, exit 1.</summary>
    public int CleanErrors { get; set; }
    /// <summary>Mutants the CLI accepted with finite outputs.</summary>
    public int Successes { get; set; }
    /// <summary>Raw messages, crashes, hangs and non-finite outputs, described.</summary>
    public List<string> Failures { get; } = [];
    /// <summary>Every case's outcome (the error line or "ok"), for reading what the mutants met.</summary>
    public List<string> Outcomes { get; } = [];
}

/// <summary>
/// Runs each mutant through the w2v2 CLI in-process (as a user would meet it) and sorts the outcome: a clean error
/// (exit 1, one line, naming the mutated file), a success (exit 0, every value of the output finite), or a failure
/// (any other exit code or message, an exception escaping the CLI, a non-finite output, or no answer in time).
/// </summary>
public static class FuzzRunner
{
    /// <summary>Runs <paramref name="mutants"/> in fresh directories under <paramref name="workDirectory"/>.</summary>
    public static IReadOnlyList<ClassReport> Run(IEnumerable<Mutant> mutants, string workDirectory, TimeSpan timeout)
    {
        var reports = new Dictionary<string, ClassReport>();
        int index = 0;
        foreach (Mutant mutant in mutants)
        {
            string directory = Directory.CreateDirectory(Path.Combine(workDirectory, $"case{index++}")).FullName;
            if (!reports.TryGetValue(mutant.Class, out ClassReport? report))
                reports[mutant.Class] = report = new ClassReport(mutant.Class);
            report.Cases++;
            string? failure = Classify(mutant.Write(directory), timeout, report);
            if (failure != null)
                report.Failures.Add($"{mutant.Description}: {failure}");
            else
                Directory.Delete(directory, recursive: true);
        }
        return [.. reports.Values];
    }

    private static string? Classify(Invocation invocation, TimeSpan timeout, ClassReport report)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Task<int> run = Task.Run(() => CliApp.Run(invocation.Args, output, error));
        try
        {
            if (!run.Wait(timeout))
                return $"no answer after {timeout.TotalSeconds:0} s (hang)";
        }
        catch (AggregateException e)
        {
            return $"crash: {e.InnerException?.GetType().Name}: {e.InnerException?.Message}";
        }
        string message = error.ToString().TrimEnd();
        report.Outcomes.Add(run.Result == 0 ? "ok" : message);
        if (run.Result == 0)
        {
            if (invocation.OutputNpy != null && !AllFinite(invocation.OutputNpy))
                return "exit 0 with non-finite values in the output";
            report.Successes++;
            return null;
        }
        bool oneLine = !message.Contains('\n') && message.StartsWith("error: ", StringComparison.Ordinal);
        if (run.Result == 1 && oneLine && message.Contains(invocation.Subject, StringComparison.Ordinal))
        {
            report.CleanErrors++;
            return null;
        }
        return $"exit {run.Result}: {(message.Length > 300 ? message[..300] + "..." : message)}";
    }

    // An .npy of float32: every value after the header must be finite.
    private static bool AllFinite(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        ReadOnlySpan<float> values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan(10 + headerLength));
        return System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(values);
    }

    /// <summary>Prints one line per class: cases, clean errors, successes, failures; then each failure.</summary>
    public static void Print(IReadOnlyList<ClassReport> reports, TextWriter writer)
    {
        writer.WriteLine($"{"class",-28} {"cases",6} {"clean",6} {"ok",6} {"failed",6}");
        foreach (ClassReport r in reports)
            writer.WriteLine($"{r.Name,-28} {r.Cases,6} {r.CleanErrors,6} {r.Successes,6} {r.Failures.Count,6}");
        foreach (ClassReport r in reports)
            foreach (string failure in r.Failures)
                writer.WriteLine($"FAIL {r.Name}: {failure}");
    }
}
