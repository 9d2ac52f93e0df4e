namespace Wav2Vec2.Threading;

/// <summary>
/// The one place where the engine fans work out over cores. Every kernel that parallelises goes through
/// <see cref="For"/>; a call made from inside a running <see cref="For"/> body runs serially, so kernels that call
/// other kernels never oversubscribe the machine.
/// </summary>
/// <remarks>
/// Work is split into a fixed number of contiguous parts that depends only on the part count and the degree of
/// parallelism, never on timing, so results are bit-identical from run to run for a given thread count.
/// </remarks>
public static class Parallelism
{
    private static int _degree = Environment.ProcessorCount;

    [ThreadStatic]
    private static bool _insideParallelRegion;

    /// <summary>
    /// Number of threads the engine uses (default: all logical cores). Set it once at start-up; 1 makes every kernel
    /// serial. Results are deterministic for a fixed value.
    /// </summary>
    public static int DegreeOfParallelism
    {
        get => _degree;
        set => _degree = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Degree of parallelism must be at least 1.");
    }

    /// <summary>How many threads a kernel called here may use right now (1 inside a parallel region).</summary>
    internal static int AvailableThreads => _insideParallelRegion ? 1 : _degree;

    /// <summary>
    /// Runs <paramref name="body"/> for every index in [0, <paramref name="count"/>), spread over the available threads.
    /// Each index runs exactly once; indices run in no particular order across threads.
    /// </summary>
    internal static void For(int count, Action<int> body)
    {
        if (count <= 0)
            return;
        int threads = Math.Min(AvailableThreads, count);
        if (threads == 1)
        {
            // A single item (or a single thread) leaves the region as it is, so the body may still fan out.
            for (int i = 0; i < count; i++)
                body(i);
            return;
        }
        if (WorkerPool.TryRun(count, threads, body))
            return;
        // The workers are busy with another caller's loop (two threads fanning out at once): use the runtime's pool.
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        Parallel.For(0, threads, options, part => RunPart(count, threads, part, body));
    }

    // Part `part` of `parts` of [0, count), with nested fan-out disabled.
    private static void RunPart(int count, int parts, int part, Action<int> body)
    {
        (int start, int end) = Partition(count, parts, part);
        RunSerial(start, end, body);
    }

    /// <summary>
    /// Splits [0, <paramref name="count"/>) into one contiguous range per available thread and runs
    /// <paramref name="body"/>(part, start, end) for each. The part count is returned first by <see cref="PartCount"/>,
    /// so callers can keep one partial result per part and reduce them in order (deterministic reductions).
    /// </summary>
    internal static void ForParts(int count, int parts, Action<int, int, int> body) => For(parts, part =>
    {
        (int start, int end) = Partition(count, parts, part);
        body(part, start, end);
    });

    /// <summary>How many parts <see cref="ForParts"/> should use for <paramref name="count"/> items here and now.</summary>
    internal static int PartCount(int count) => Math.Max(1, Math.Min(AvailableThreads, count));

    /// <summary>The half-open range of items [start, end) that part <paramref name="part"/> of <paramref name="parts"/> owns.</summary>
    internal static (int Start, int End) Partition(int count, int parts, int part)
    {
        long start = (long)count * part / parts;
        long end = (long)count * (part + 1) / parts;
        return ((int)start, (int)end);
    }

    internal static void RunSerial(int start, int end, Action<int> body)
    {
        bool outer = _insideParallelRegion;
        _insideParallelRegion = true;
        try
        {
            for (int i = start; i < end; i++)
                body(i);
        }
        finally
        {
            _insideParallelRegion = outer;
        }
    }
}
