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
    private static int _processDegree = Environment.ProcessorCount;

    // The degree of the computation running on this logical flow (0: none set, use the process default). AsyncLocal
    // so that a scope flows into tasks the computation starts, and two computations on two threads never see each other's.
    private static readonly AsyncLocal<int> ScopedDegree = new();

    [ThreadStatic]
    private static bool _insideParallelRegion;

    /// <summary>
    /// Number of threads the engine uses here: the innermost <see cref="Scope"/>'s value, else the process default
    /// (all logical cores unless set). Setting it changes the process default, for programs that own the whole process
    /// (a command line); libraries and pipelines that share a process use <see cref="Scope"/> instead. Results are
    /// deterministic for a fixed value.
    /// </summary>
    public static int DegreeOfParallelism
    {
        get => ScopedDegree.Value is > 0 and int scoped ? scoped : _processDegree;
        set => _processDegree = Checked(value);
    }

    /// <summary>
    /// Runs the computations of the current flow (this thread and the tasks it starts) on
    /// <paramref name="degreeOfParallelism"/> threads until the returned scope is disposed, without changing what other
    /// threads use: two pipelines with different thread counts in one process each get the result they get alone.
    /// </summary>
    /// <example><code>
    /// using (Parallelism.Scope(1))
    ///     features = model.ExtractFeatures(clip);   // bit-identical to any other one-thread run
    /// </code></example>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreeOfParallelism"/> is below 1.</exception>
    public static IDisposable Scope(int degreeOfParallelism)
    {
        int previous = ScopedDegree.Value;
        ScopedDegree.Value = Checked(degreeOfParallelism);
        return new Restore(previous);
    }

    private static int Checked(int value) => value >= 1
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, "Degree of parallelism must be at least 1.");

    private sealed class Restore(int previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            ScopedDegree.Value = previous;
        }
    }

    /// <summary>How many threads a kernel called here may use right now (1 inside a parallel region).</summary>
    internal static int AvailableThreads => _insideParallelRegion ? 1 : DegreeOfParallelism;

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

    /// <summary>
    /// Runs <paramref name="run"/>(rowStart, rowEnd, colStart, colEnd) over disjoint slabs of an m x n product: column
    /// slabs in units of <paramref name="columnUnit"/> when n >= m, else row slabs in units of <paramref name="rowUnit"/>;
    /// as many threads as <paramref name="work"/> / <paramref name="minWorkPerThread"/> allows (the whole product on the
    /// calling thread when that is one). Slabs need no synchronisation and the split does not depend on timing.
    /// </summary>
    internal static void ForSlabs(int m, int n, int rowUnit, int columnUnit, long work, long minWorkPerThread,
        Action<int, int, int, int> run)
    {
        bool splitColumns = n >= m;
        int unit = splitColumns ? columnUnit : rowUnit, units = ((splitColumns ? n : m) + unit - 1) / unit;
        int threads = (int)Math.Clamp(work / minWorkPerThread, 1, Math.Min(AvailableThreads, units));
        if (threads == 1)
        {
            run(0, m, 0, n);
            return;
        }
        For(threads, part =>
        {
            (int u0, int u1) = Partition(units, threads, part);
            if (splitColumns)
                run(0, m, u0 * unit, Math.Min(n, u1 * unit));
            else
                run(u0 * unit, Math.Min(m, u1 * unit), 0, n);
        });
    }

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
