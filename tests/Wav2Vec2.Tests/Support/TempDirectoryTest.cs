namespace Wav2Vec2.Tests.Support;

/// <summary>Base of test classes that need a scratch directory: a fresh one per test, deleted afterwards.</summary>
public abstract class TempDirectoryTest
{
    /// <summary>The scratch directory of the running test.</summary>
    protected string TempDirectory { get; private set; } = "";

    [TestInitialize]
    public void CreateTempDirectory() => TempDirectory = Directory.CreateTempSubdirectory("w2v2-test-").FullName;

    [TestCleanup]
    public void DeleteTempDirectory() => Directory.Delete(TempDirectory, recursive: true);
}
