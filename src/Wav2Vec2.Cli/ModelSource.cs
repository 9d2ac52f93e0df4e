using System.Collections.Concurrent;
using Spectre.Console;
using Wav2Vec2.IO;

namespace Wav2Vec2.Cli;

/// <summary>Turns --model and --init values (a directory or a Hugging Face repo id) into model directories.</summary>
internal static class ModelSource
{
    // A quick resolve (cached, or small files) prints nothing; a download that takes longer gets a progress display.
    private static readonly TimeSpan ShowAfter = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The directory of <paramref name="nameOrDirectory"/>, fetched through the hub cache (settings from the HF_*
    /// environment variables) when it is a repo id; on a terminal, a download shows its progress on stderr.
    /// </summary>
    public static string Resolve(string nameOrDirectory, bool includeLanguageModel = false)
    {
        if (Directory.Exists(nameOrDirectory))
            return nameOrDirectory;
        var options = new HubOptions { IncludeLanguageModel = includeLanguageModel };
        var latest = new ConcurrentDictionary<string, HubProgress>();
        var sink = new Sink(p => latest[p.File] = p);
        Task<string> resolving = Task.Run(() => ModelHub.Resolve(nameOrDirectory, options, sink));
        Task finished = resolving.ContinueWith(_ => { }, TaskScheduler.Default);   // waits without throwing
        if (!finished.Wait(ShowAfter) && !Console.IsErrorRedirected)
            ShowProgress(finished, latest);
        return resolving.GetAwaiter().GetResult();
    }

    private static void ShowProgress(Task finished, ConcurrentDictionary<string, HubProgress> latest)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn(), new TransferSpeedColumn())
            .Start(context =>
            {
                var bars = new Dictionary<string, ProgressTask>();
                do
                {
                    foreach (HubProgress p in latest.Values)
                    {
                        if (!bars.TryGetValue(p.File, out ProgressTask? bar))
                            bars[p.File] = bar = context.AddTask(Markup.Escape(p.File), maxValue: Math.Max(1, p.TotalBytes));
                        bar.Value = p.BytesDone;
                    }
                } while (!finished.Wait(TimeSpan.FromMilliseconds(100)));
            });
    }

    // Reports on the downloading thread itself (Progress<T> would post them to the thread pool, out of order).
    private sealed class Sink(Action<HubProgress> report) : IProgress<HubProgress>
    {
        public void Report(HubProgress value) => report(value);
    }
}
