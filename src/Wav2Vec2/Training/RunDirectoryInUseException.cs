namespace Wav2Vec2.Training;

/// <summary>A new run was asked for in a run directory that holds another run's checkpoints: resume that run, or choose
/// another directory. Nothing was written.</summary>
/// <example><code>
/// try { trainer = CtcFineTuner.Prepare("pretrained", train, options, "run"); }
/// catch (RunDirectoryInUseException) { trainer = CtcFineTuner.Prepare("pretrained", train, options, "run", resume: true); }
/// </code></example>
public sealed class RunDirectoryInUseException(string runDirectory, string newestCheckpoint)
    : IOException($"{runDirectory} already holds checkpoints (the newest is {newestCheckpoint}): resume the run to continue it, " +
        "or choose another run directory")
{
    /// <summary>The run directory.</summary>
    public string RunDirectory { get; } = runDirectory;
}
