using System.Diagnostics;
using Wav2Vec2.Audio;

namespace Wav2Vec2.Tests.Cli;

/// <summary>
/// SIGINT (Ctrl+C) and SIGTERM sent to a real w2v2 process while it writes features: it stops with one line, exit code
/// 130 or 143, and leaves no output and no temporary file.
/// </summary>
[TestClass]
[DoNotParallelize]   // a child process working on both cores
public sealed class SignalTests : TempDirectoryTest
{
    [TestMethod]
    [DataRow("INT", 130)]
    [DataRow("TERM", 143)]
    public void ASignalStopsTheCommandCleanly(string signal, int expectedCode)
    {
        // Ten minutes of noise: the bundled model takes seconds over it, time enough to be interrupted mid-write.
        var random = new Random(3);
        string audio = Path.Combine(TempDirectory, "long.wav");
        File.WriteAllBytes(audio, WavWriter.Encode(new AudioClip([.. Enumerable.Range(0, 16000 * 600).Select(_ => (float)(random.NextDouble() - 0.5) * 0.2f)], 16000)));
        string output = Path.Combine(TempDirectory, "features.npy");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "w2v2.dll"), "features",
            "--model", ExamplesPath("models", "tiny-en"), "--audio", audio, "--out", output])
            { RedirectStandardError = true, RedirectStandardOutput = true };
        using Process process = Process.Start(start)!;
        var clock = Stopwatch.StartNew();
        while (!Directory.EnumerateFiles(TempDirectory, "features.npy.tmp-*").Any() && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
            Thread.Sleep(20);
        Assert.IsFalse(process.HasExited, "the command ended before it could be interrupted");
        using (Process kill = Process.Start("kill", [$"-{signal}", process.Id.ToString()])!)
            kill.WaitForExit();
        Assert.IsTrue(process.WaitForExit(30_000), "the command did not stop");
        string error = process.StandardError.ReadToEnd();
        Assert.AreEqual(expectedCode, process.ExitCode, error);
        StringAssert.StartsWith(error, "error: stopped by ");
        Assert.AreEqual(1, error.TrimEnd().Split('\n').Length, error);
        Assert.IsFalse(Directory.EnumerateFiles(TempDirectory, "features.npy*").Any(), "no output, no temporary file");
    }
}
