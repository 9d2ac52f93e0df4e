using Spectre.Console;
using Wav2Vec2.Training;

namespace Wav2Vec2.Cli;

/// <summary>What the training commands share: Ctrl+C handling, the progress display and flag checks.</summary>
internal static class TrainingRun
{
    /// <summary>
    /// Runs <paramref name="train"/>: Ctrl+C or SIGTERM finishes the current batch, saves a checkpoint and exits with
    /// 130 or 143 (<see cref="Interruption"/>); on a terminal a progress bar shows the latest metrics, otherwise one line
    /// per logged update is printed.
    /// </summary>
    public static int Run(Trainer trainer, string caption, TextWriter output, Action<CancellationToken> train)
    {
        CancellationToken token = Interruption.Token;
        if (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected)
            TrainWithProgressBar(trainer, caption, () => train(token));
        else
            train(token);
        return Interruption.ExitCode ?? 0;
    }

    /// <summary>A run setup, with a run directory in use reported as the command line's flags say.</summary>
    public static T Prepare<T>(Func<T> prepare) where T : Trainer
    {
        try
        {
            return prepare();
        }
        catch (RunDirectoryInUseException e)
        {
            throw new CliException($"{e.Message} (pass --resume to continue, or choose another --out)");
        }
    }

    /// <summary>The value, after checking that it is positive (null passes).</summary>
    public static int? Positive(int? value, string flag) => value is int v && v <= 0
        ? throw new CliException($"{flag} must be positive, got {v}") : value;

    // On a terminal: a Spectre.Console progress bar whose caption is the latest metrics line, and a status line for
    // checkpoints and warnings (all of them are also in train_log.jsonl / repeated after the bar).
    private static void TrainWithProgressBar(Trainer trainer, string caption, Action train)
    {
        var messages = new List<string>();
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                var progress = context.AddTask(caption, maxValue: trainer.MaxUpdates);
                var status = context.AddTask("starting", maxValue: 1);
                progress.Value = trainer.Update;
                trainer.UpdateCompleted = update => progress.Value = update;
                trainer.Log = line =>
                {
                    if (line.StartsWith("update ", StringComparison.Ordinal))
                        progress.Description = Markup.Escape(line);
                    else
                    {
                        status.Description = Markup.Escape(line);
                        status.Value = 1;
                        messages.Add(line);
                    }
                };
                train();
            });
        foreach (string message in messages)
            Console.WriteLine(message);
    }
}
