using System.Diagnostics;
using Wav2Vec2.IO;
using Wav2Vec2.Training;

namespace Wav2Vec2.Tests.IO;

/// <summary>
/// No temporary file outlives its writer: a failed write removes its own, and the leftovers of a killed process (its
/// id is in the name) are removed by the next write of the same output; a live writer's are left alone.
/// </summary>
[TestClass]
public sealed class TemporaryFileTests : TempDirectoryTest
{
    // The id of a process that has exited (reuse within the test is not a practical concern).
    private static int DeadProcessId()
    {
        using Process process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    [TestMethod]
    public void AKilledWritersTemporaryFileIsRemovedByTheNextWrite()
    {
        string target = Path.Combine(TempDirectory, "out.npy");
        string stale = $"{target}.tmp-{DeadProcessId()}-0123abcd";
        string live = $"{target}.tmp-{Environment.ProcessId}-fedc3210";
        File.WriteAllText(stale, "partial");
        File.WriteAllText(live, "being written by this process");
        AtomicFile.WriteText(target, "done");
        Assert.IsFalse(File.Exists(stale), "a dead process's leftover");
        Assert.IsTrue(File.Exists(live), "a live writer's file stays");
        Assert.AreEqual("done", File.ReadAllText(target));
    }

    [TestMethod]
    public void AFailedWriteLeavesNoTemporaryFileAndKeepsTheOldOutput()
    {
        string target = Path.Combine(TempDirectory, "out.txt");
        File.WriteAllText(target, "old");
        Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(target, stream =>
        {
            stream.Write(new byte[1000]);
            throw new IOException("No space left on device");
        }));
        CollectionAssert.AreEqual(new[] { target }, Directory.GetFiles(TempDirectory));
        Assert.AreEqual("old", File.ReadAllText(target));
    }

    [TestMethod]
    public void ACheckpointThatFailsToWriteLeavesNothingAndResumeFindsTheLastCompleteOne()
    {
        var store = new CheckpointStore(TempDirectory, keepLast: 0);
        var optimizer = new AdamW([]);
        store.Save(2, Write("weights"), optimizer, new TrainerState { Update = 2 });
        Assert.ThrowsExactly<IOException>(() => store.Save(4, directory =>
        {
            Write("half")(directory);
            throw new IOException("No space left on device");
        }, optimizer, new TrainerState { Update = 4 }));
        CollectionAssert.AreEqual(new[] { "checkpoint-2" }, Directory.GetDirectories(TempDirectory).Select(Path.GetFileName).ToArray());
        Assert.AreEqual(Path.Combine(TempDirectory, "checkpoint-2"), store.Latest());

        // A run killed while writing checkpoint-6 left its temporary directory: the next save removes it.
        string stale = Path.Combine(TempDirectory, $"checkpoint-6.tmp-{DeadProcessId()}");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "model.safetensors"), "partial");
        store.Save(6, Write("weights"), optimizer, new TrainerState { Update = 6 });
        CollectionAssert.AreEquivalent(new[] { "checkpoint-2", "checkpoint-6" }, Directory.GetDirectories(TempDirectory).Select(Path.GetFileName).ToArray());

        // What SavePretrained does: create the directory and write the model into it.
        static Action<string> Write(string weights) => directory =>
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "model.safetensors"), weights);
        };
    }
}
