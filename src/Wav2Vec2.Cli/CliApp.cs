using System.CommandLine;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Cli;

/// <summary>A mistake the user can fix (bad flag value, missing file); printed as one line, exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>
/// The w2v2 command line. Every command reports user errors as one line on stderr with a non-zero exit code, writes
/// outputs atomically (never a partial file), and prints a stack trace only with --verbose.
/// </summary>
public static class CliApp
{
    internal static readonly Option<bool> Verbose = new("--verbose") { Description = "Print details and stack traces of errors.", Recursive = true };
    internal static readonly Option<int?> Threads = new("--threads") { Description = "Cores to use (default: all).", Recursive = true };

    /// <summary>Runs the command line; returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("wav2vec 2.0 for .NET: feature extraction, transcription with timestamps, forced alignment, pre-training and fine-tuning.")
        {
            Verbose, Threads,
            ModelCommands.Features(output, error), ModelCommands.Logits(output), ModelCommands.Transcribe(output, error), ModelCommands.Align(output),
            ModelCommands.Init(output), ModelCommands.Convert(output), ModelCommands.Inspect(output), QuantizeCommand.Create(output), ExportOnnxCommand.Create(output), PretrainCommand.Create(output), FinetuneCommand.Create(output),
            EvaluateCommand.Create(output), TuneLmCommand.Create(output), PlotCommand.Create(output),
        };
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine may spread a message over lines (a list of allowed values): keep one line.
            error.WriteLine($"error: {string.Join(' ', parse.Errors[0].Message.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}");
            return 2;
        }
        bool verbose = parse.GetValue(Verbose);
        using Interruption interruption = Interruption.Listen();
        try
        {
            if (parse.GetValue(Threads) is int threads)
                Parallelism.DegreeOfParallelism = threads >= 1 ? threads : throw new CliException("--threads must be at least 1");
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException) when (Interruption.ExitCode is int code)
        {
            error.WriteLine($"error: stopped by {Interruption.SignalName}; no output was written");
            return code;
        }
        catch (Exception e) when (IsUserError(e))
        {
            error.WriteLine($"error: {e.Message}");
            if (verbose)
                error.WriteLine(e);
            return 1;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: unexpected failure: {e.Message}{(verbose ? "" : " (--verbose shows details)")}");
            if (verbose)
                error.WriteLine(e);
            return 70;
        }
    }

    private static bool IsUserError(Exception e) => e is CliException or Nn.HeldWeightsException or InvalidDataException or FileNotFoundException
        or DirectoryNotFoundException or ArgumentException or UnauthorizedAccessException or IOException or OperationCanceledException;
}
