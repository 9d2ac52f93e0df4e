using System.Text.Json;
using Wav2Vec2.IO;

namespace Wav2Vec2.Training;

/// <summary>
/// The checkpoints of a run directory: checkpoint-N (model files, optimizer.bin, trainer_state.json), written into a
/// temporary sibling and renamed so a killed run never leaves a partial one; the newest N kept when asked; best/ and
/// final/ replaced atomically the same way.
/// </summary>
internal sealed class CheckpointStore(string runDirectory, int keepLast)
{
    public const string StateFile = "trainer_state.json", OptimizerFile = "optimizer.bin";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string RunDirectory { get; } = runDirectory;

    /// <summary>Writes checkpoint-<paramref name="update"/> and prunes older ones beyond the newest keepLast.</summary>
    public string Save(int update, Action<string> saveModel, AdamW optimizer, TrainerState state)
    {
        string directory = Path.Combine(RunDirectory, $"checkpoint-{update}");
        Replace(directory, temporary =>
        {
            saveModel(temporary);
            using (var stream = new FileStream(Path.Combine(temporary, OptimizerFile), FileMode.CreateNew))
                optimizer.Save(stream);
            File.WriteAllText(Path.Combine(temporary, StateFile), JsonSerializer.Serialize(state, Indented));
        });
        if (keepLast > 0)
            foreach (string old in Checkpoints().Skip(keepLast))
                Directory.Delete(old, recursive: true);
        return directory;
    }

    /// <summary>Writes a model-only directory (best/, final/) atomically.</summary>
    public string SaveModel(string name, Action<string> saveModel)
    {
        string directory = Path.Combine(RunDirectory, name);
        Replace(directory, saveModel);
        return directory;
    }

    /// <summary>The newest complete checkpoint, or null.</summary>
    public string? Latest() => Checkpoints().FirstOrDefault();

    /// <summary>
    /// Refuses to start a new run in a directory that holds another run's checkpoints (a run is continued with
    /// resume); a directory without checkpoints is fine.
    /// </summary>
    /// <exception cref="RunDirectoryInUseException">The directory holds checkpoints and <paramref name="resume"/> is false.</exception>
    public static void CheckNewRun(string runDirectory, bool resume)
    {
        if (!resume && new CheckpointStore(runDirectory, 0).Latest() is string latest)
            throw new RunDirectoryInUseException(runDirectory, Path.GetFileName(latest));
    }

    /// <summary>Reads a checkpoint's trainer state and restores the optimizer from it.</summary>
    public static TrainerState Restore(string checkpoint, AdamW optimizer)
    {
        using (FileStream stream = File.OpenRead(Path.Combine(checkpoint, OptimizerFile)))
            optimizer.Load(stream);
        return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(Path.Combine(checkpoint, StateFile)))
            ?? throw new InvalidDataException($"{checkpoint}: empty trainer state");
    }

    // Complete checkpoint-N directories, newest first.
    private IEnumerable<string> Checkpoints() => !Directory.Exists(RunDirectory) ? []
        : Directory.GetDirectories(RunDirectory, "checkpoint-*")
            .Select(d => (Path: d, Ok: int.TryParse(Path.GetFileName(d)["checkpoint-".Length..], out int n), N: n))
            .Where(d => d.Ok && File.Exists(Path.Combine(d.Path, StateFile)))
            .OrderByDescending(d => d.N).Select(d => d.Path);

    // Written into "name.tmp-PID" and renamed; a failed write (a full disk) deletes its own temporary directory, and
    // the leftovers of a killed run are removed by the next one.
    private static void Replace(string directory, Action<string> write)
    {
        AtomicFile.RemoveStaleTemporaries(directory);
        string temporary = AtomicFile.TemporaryName(directory);
        if (Directory.Exists(temporary))
            Directory.Delete(temporary, recursive: true);
        try
        {
            write(temporary);
        }
        catch
        {
            if (Directory.Exists(temporary))
                Directory.Delete(temporary, recursive: true);
            throw;
        }
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
        Directory.Move(temporary, directory);
    }
}
