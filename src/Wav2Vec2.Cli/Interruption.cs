using System.Runtime.InteropServices;

namespace Wav2Vec2.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM while a command runs: the first signal cancels the command cooperatively (a training
/// run finishes its step and saves a checkpoint; an output being written is abandoned and its temporary file removed)
/// and the command exits with 130 or 143 after one line; a second signal ends the process at once (whatever
/// temporary file it leaves is removed by the next run writing that output).
/// </summary>
internal sealed class Interruption : IDisposable
{
    private static readonly AsyncLocal<Interruption?> Running = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration[] _registrations;
    private PosixSignal? _signal;

    private Interruption()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    /// <summary>The token of the running command (none outside <see cref="CliApp.Run"/>).</summary>
    public static CancellationToken Token => Running.Value?._cancel.Token ?? CancellationToken.None;

    /// <summary>The exit code for the signal received (130 for SIGINT, 143 for SIGTERM), or null.</summary>
    public static int? ExitCode => Running.Value?._signal switch
    {
        PosixSignal.SIGINT => 130,
        PosixSignal.SIGTERM => 143,
        _ => null,
    };

    /// <summary>The signal's name for messages.</summary>
    public static string SignalName => Running.Value?._signal == PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl+C";

    /// <summary>Listens for the signals until disposed; commands see <see cref="Token"/>.</summary>
    public static Interruption Listen() => Running.Value = new Interruption();

    private void OnSignal(PosixSignalContext context)
    {
        if (_signal != null)
            return;   // a second signal: the default action ends the process
        _signal = context.Signal;
        context.Cancel = true;
        _cancel.Cancel();
    }

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations)
            registration.Dispose();
        _cancel.Dispose();
        Running.Value = null;
    }
}
