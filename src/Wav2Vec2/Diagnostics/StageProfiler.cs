using System.Diagnostics;

namespace Wav2Vec2.Diagnostics;

/// <summary>
/// Wall-time breakdown of a forward pass or training step by stage (conv encoder, attention, norms, copies, ...), for
/// the benchmark's <c>profile</c> command. Stages nest; each moment is charged to the innermost open stage only
/// (self time), so the rows add up to the measured total. Backward passes are charged to the stage that recorded the
/// op, in a separate "backward" column. Only the thread that called <see cref="Start"/> is timed (kernels fan out
/// inside a stage and are charged to it). Disabled, <see cref="Enter"/> is one static flag test and times nothing.
/// </summary>
internal static class StageProfiler
{
    private static readonly Dictionary<(bool Backward, string Stage), (long Ticks, long Calls)> Totals = [];
    private static readonly Stack<string> Open = new();
    private static volatile bool _enabled;
    private static int _thread;
    private static long _last;
    private static bool _backward;

    /// <summary>True while a profile is being taken.</summary>
    public static bool Enabled => _enabled;

    /// <summary>Clears the totals and starts timing the calling thread.</summary>
    public static void Start()
    {
        Totals.Clear();
        Open.Clear();
        _thread = Environment.CurrentManagedThreadId;
        _last = Stopwatch.GetTimestamp();
        _backward = false;
        _enabled = true;
    }

    /// <summary>Stops timing; the totals stay readable.</summary>
    public static void Stop()
    {
        Charge();
        _enabled = false;
    }

    /// <summary>Seconds per (phase, stage), largest first; time outside every stage is "(outside stages)".</summary>
    public static IReadOnlyList<(string Phase, string Stage, double Seconds, long Calls)> Results() =>
        Totals.OrderByDescending(e => e.Value.Ticks)
            .Select(e => (e.Key.Backward ? "backward" : "forward", e.Key.Stage,
                (double)e.Value.Ticks / Stopwatch.Frequency, e.Value.Calls))
            .ToList();

    /// <summary>Opens stage <paramref name="stage"/> until the returned scope is disposed.</summary>
    public static Scope Enter(string stage)
    {
        if (!_enabled || Environment.CurrentManagedThreadId != _thread)
            return default;
        Charge();
        Open.Push(stage);
        Count(stage);
        return new Scope(true, false);
    }

    /// <summary>The innermost open stage (null when none or when disabled): a backward op is charged to it.</summary>
    public static string? Current => _enabled && Environment.CurrentManagedThreadId == _thread && Open.Count > 0
        ? Open.Peek() : null;

    /// <summary>Opens a backward-phase stage (see <see cref="Current"/>) until the returned scope is disposed.</summary>
    public static Scope EnterBackward(string? stage)
    {
        if (!_enabled || Environment.CurrentManagedThreadId != _thread)
            return default;
        Charge();
        Open.Push(stage ?? "(outside stages)");
        bool outer = _backward;
        _backward = true;
        Count(Open.Peek());
        return new Scope(true, !outer);
    }

    // Adds the time since the last event to the innermost open stage.
    private static void Charge()
    {
        long now = Stopwatch.GetTimestamp();
        var key = (_backward, Open.Count > 0 ? Open.Peek() : "(outside stages)");
        Totals[key] = Totals.TryGetValue(key, out var t) ? (t.Ticks + now - _last, t.Calls) : (now - _last, 0);
        _last = now;
    }

    private static void Count(string stage)
    {
        var key = (_backward, stage);
        Totals[key] = Totals.TryGetValue(key, out var t) ? (t.Ticks, t.Calls + 1) : (0, 1);
    }

    private static void Exit(bool leavesBackward)
    {
        if (!_enabled || Open.Count == 0)
            return;
        Charge();
        Open.Pop();
        if (leavesBackward)
            _backward = false;
    }

    /// <summary>Closes its stage on dispose.</summary>
    public readonly struct Scope(bool active, bool leavesBackward) : IDisposable
    {
        /// <summary>Closes the stage.</summary>
        public void Dispose()
        {
            if (active)
                Exit(leavesBackward);
        }
    }
}
