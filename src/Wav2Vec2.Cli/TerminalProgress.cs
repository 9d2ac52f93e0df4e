using System.Collections.Concurrent;
using Spectre.Console;

namespace Wav2Vec2.Cli;

/// <summary>
/// Runs a piece of work that reports progress per item (a file being downloaded, a dataset being scanned): quick work
/// prints nothing; work that takes longer than a second gets Spectre.Console progress bars on stderr when stderr is a
/// terminal (never in logs or pipes).
/// </summary>
internal static class TerminalProgress
{
    private static readonly TimeSpan ShowAfter = TimeSpan.FromSeconds(1);

    /// <summary>One item's progress: its name, units done, units in all.</summary>
    public readonly record struct Item(string Name, long Done, long Total);

    /// <summary>Runs <paramref name="work"/>, giving it the callback to report items through.</summary>
    /// <param name="bytes">Whether the units are bytes (shown with sizes and a transfer rate).</param>
    public static T Run<T>(Func<Action<Item>, T> work, bool bytes)
    {
        var latest = new ConcurrentDictionary<string, Item>();
        Task<T> running = Task.Run(() => work(item => latest[item.Name] = item));
        Task finished = running.ContinueWith(_ => { }, TaskScheduler.Default);   // waits without throwing
        if (!finished.Wait(ShowAfter) && !Console.IsErrorRedirected)
            Show(finished, latest, bytes);
        return running.GetAwaiter().GetResult();
    }

    private static void Show(Task finished, ConcurrentDictionary<string, Item> latest, bool bytes)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        ProgressColumn[] columns = bytes
            ? [new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn()]
            : [new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()];
        console.Progress().Columns(columns).Start(context =>
        {
            var bars = new Dictionary<string, ProgressTask>();
            do
            {
                foreach (Item item in latest.Values)
                {
                    if (!bars.TryGetValue(item.Name, out ProgressTask? bar))
                        bars[item.Name] = bar = context.AddTask(Markup.Escape(item.Name), maxValue: Math.Max(1, item.Total));
                    bar.Value = item.Done;
                }
            } while (!finished.Wait(TimeSpan.FromMilliseconds(100)));
        });
    }

    /// <summary>Reports on the working thread itself (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    public sealed class Sink<TValue>(Action<TValue> report) : IProgress<TValue>
    {
        public void Report(TValue value) => report(value);
    }
}
