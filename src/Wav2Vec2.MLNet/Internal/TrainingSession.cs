using Microsoft.ML.Runtime;
using Wav2Vec2.Training;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>
/// One Fit of a training estimator: the run directory (given, or temporary and deleted once a model is returned), the
/// core's run setup with ResumeFromCheckpoint, the trainer's lines in mlContext.Log (warnings as warnings), its logged
/// figures and updates on an ML.NET progress channel (metrics Loss, Learning Rate and Gradient Norm; unit updates), and
/// cancellation: the loop saves the last completed update and Fit throws an <see cref="OperationCanceledException"/>
/// naming the checkpoint.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    private static readonly string[] ProgressMetrics = ["loss", "lr", "grad_norm"];
    private readonly IHostEnvironment? _environment;
    private readonly string _name;
    private readonly Wav2Vec2TrainingOptions _options;
    private readonly bool _temporary;
    private bool _keep;
    private string? _scratch;

    public TrainingSession(IHostEnvironment? environment, string name, Wav2Vec2TrainingOptions options)
    {
        _environment = environment;
        _name = name;
        _options = options;
        _temporary = options.OutputDirectory == null;
        OutputDirectory = Path.GetFullPath(options.OutputDirectory ?? Directory.CreateTempSubdirectory("wav2vec2-mlnet-run-").FullName);
    }

    /// <summary>Where the trainer writes train_log.jsonl, checkpoints, best/ and final/.</summary>
    public string OutputDirectory { get; }

    /// <summary>The model to start from as a directory: <paramref name="directory"/> (a repo id is fetched first), or
    /// <paramref name="model"/> written to a temporary one (the core's run setups start from directories) that is deleted
    /// with the session; null for neither.</summary>
    public string? StartingModel(string? directory, Wav2Vec2.Models.Wav2Vec2Model? model)
    {
        if (model == null)
            return directory == null ? null : ModelLoading.Resolve(_environment, _name, directory);
        _scratch ??= Directory.CreateTempSubdirectory("wav2vec2-mlnet-init-").FullName;
        model.SavePretrained(_scratch);
        return _scratch;
    }

    /// <summary>A line in mlContext.Log under the trainer's name (a "warning: " line as a warning).</summary>
    public void Log(string line)
    {
        if (line.StartsWith("warning: ", StringComparison.Ordinal))
            MLNetInterop.Warning(_environment, _name, line["warning: ".Length..]);
        else
            MLNetInterop.Info(_environment, _name, line);
    }

    /// <summary>Runs the core's run setup (<paramref name="prepare"/>: run directory, resume, log) for this session.</summary>
    /// <exception cref="InvalidOperationException">The run directory holds checkpoints and ResumeFromCheckpoint is off.</exception>
    public T Prepare<T>(Func<string, bool, Action<string>, T> prepare) where T : Trainer
    {
        try
        {
            return prepare(OutputDirectory, _options.ResumeFromCheckpoint, Log);
        }
        catch (RunDirectoryInUseException e)
        {
            throw new InvalidOperationException($"{_name}: {e.Message} (set ResumeFromCheckpoint to continue it, or choose another OutputDirectory)", e);
        }
    }

    /// <summary>Runs <paramref name="train"/> with the trainer bridged to ML.NET.</summary>
    /// <exception cref="OperationCanceledException">The options' token stopped the run (its checkpoint is kept and named).</exception>
    public void Train(Trainer trainer, Action<CancellationToken> train)
    {
        CancellationToken token = _options.CancellationToken;
        token.ThrowIfCancellationRequested();
        using IProgressChannel? progress = _environment?.StartProgressChannel(_name);
        double?[] last = new double?[ProgressMetrics.Length];
        int update = trainer.Update;
        progress?.SetHeader(new ProgressHeader(["Loss", "Learning Rate", "Gradient Norm"], ["updates"]), entry =>
        {
            for (int i = 0; i < last.Length; i++)
                if (last[i] is double value)
                    entry.SetMetric(i, value);
            entry.SetProgress(0, Volatile.Read(ref update), trainer.MaxUpdates);
        });
        trainer.Log = Log;
        trainer.UpdateCompleted = done => Volatile.Write(ref update, done);
        trainer.Logged = entry =>
        {
            if (entry.Split != "train")
                return;
            for (int i = 0; i < last.Length; i++)
                last[i] = entry.Metrics.TryGetValue(ProgressMetrics[i], out double value) ? value : null;
            progress?.Checkpoint([.. last, entry.Update, trainer.MaxUpdates]);
        };
        train(token);
        if (!token.IsCancellationRequested || trainer.Update >= trainer.MaxUpdates)
            return;
        _keep = true;
        throw new OperationCanceledException($"{_name}: cancelled after update {trainer.Update} of {trainer.MaxUpdates}; " +
            $"{Path.Combine(OutputDirectory, $"checkpoint-{trainer.Update}")} holds it (Fit again with OutputDirectory = " +
            $"\"{OutputDirectory}\" and ResumeFromCheckpoint = true to continue)", token);
    }

    public void Dispose()
    {
        if (_scratch != null)
            Directory.Delete(_scratch, recursive: true);
        if (_temporary && !_keep && Directory.Exists(OutputDirectory))
            Directory.Delete(OutputDirectory, recursive: true);
    }
}
