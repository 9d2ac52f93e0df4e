using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Wav2Vec2.Threading;

/// <summary>
/// Dedicated worker threads for <see cref="Parallelism.For"/>: part 0 runs on the caller, part i on worker i, always.
/// With the runtime's pool a sleeping worker can start late enough that the caller takes every part itself and a
/// "parallel" multiply runs on one core; here each part has its owner. Workers spin briefly after a loop (kernels
/// come back to back in a forward pass) and then sleep. One caller at a time: a second concurrent caller is told to
/// fall back (see <see cref="TryRun"/>).
/// </summary>
internal static class WorkerPool
{
    // How long an idle worker polls for the next loop before it sleeps.
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000;   // 200 us
    private static readonly object Gate = new();
    private static readonly ManualResetEventSlim Finished = new(false);
    private static Worker[] _workers = [];
    private static Action<int>? _body;
    private static int _count, _parts, _remaining;
    private static Exception? _error;

    /// <summary>
    /// Runs <paramref name="parts"/> parts of [0, <paramref name="count"/>) on the caller and parts - 1 workers and
    /// returns true, or returns false at once when another thread is using the workers.
    /// </summary>
    public static bool TryRun(int count, int parts, Action<int> body)
    {
        if (!Monitor.TryEnter(Gate))
            return false;
        try
        {
            EnsureWorkers(parts - 1);
            (_body, _count, _parts, _error) = (body, count, parts, null);
            Finished.Reset();
            Volatile.Write(ref _remaining, parts - 1);
            for (int w = 0; w < parts - 1; w++)
                _workers[w].Start();
            try
            {
                RunPart(0);
            }
            finally
            {
                Finished.Wait();
                _body = null;
            }
            if (_error != null)
                ExceptionDispatchInfo.Capture(_error).Throw();
            return true;
        }
        finally
        {
            Monitor.Exit(Gate);
        }
    }

    private static void RunPart(int part)
    {
        (int start, int end) = Parallelism.Partition(_count, _parts, part);
        Parallelism.RunSerial(start, end, _body!);
    }

    private static void EnsureWorkers(int needed)
    {
        if (_workers.Length >= needed)
            return;
        var workers = new Worker[needed];
        Array.Copy(_workers, workers, _workers.Length);
        for (int w = _workers.Length; w < needed; w++)
            workers[w] = new Worker(w + 1);
        _workers = workers;
    }

    private sealed class Worker
    {
        private readonly int _part;
        private readonly SemaphoreSlim _wake = new(0);
        private int _ticket, _done, _sleeping;

        public Worker(int part)
        {
            _part = part;
            new Thread(Loop) { IsBackground = true, Name = $"Wav2Vec2 worker {part}" }.Start();
        }

        public void Start()
        {
            Interlocked.Increment(ref _ticket);
            if (Interlocked.Exchange(ref _sleeping, 0) == 1)
                _wake.Release();
        }

        private void Loop()
        {
            while (true)
            {
                if (!AwaitTicket())
                    continue;
                try
                {
                    RunPart(_part);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, e, null);
                }
                _done++;
                if (Interlocked.Decrement(ref _remaining) == 0)
                    Finished.Set();
            }
        }

        // Spins for a while, then sleeps until Start; true when a new loop is there.
        private bool AwaitTicket()
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            var spinner = new SpinWait();
            while (Volatile.Read(ref _ticket) == _done)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (Volatile.Read(ref _ticket) == _done)
                        _wake.Wait();
                    Interlocked.Exchange(ref _sleeping, 0);
                    return false;
                }
                spinner.SpinOnce(sleep1Threshold: -1);
            }
            return true;
        }
    }
}
