namespace Wav2Vec2.Tests.Support;

/// <summary>Base of test classes that need a scratch directory: a fresh one per test, deleted afterwards.</summary>
public abstract class TempDirectoryTest
{
    /// <summary>The scratch directory of the running test.</summary>
    protected string TempDirectory { get; private set; } = "";

    [TestInitialize]
    public void CreateTempDirectory() => TempDirectory = Directory.CreateTempSubdirectory("w2v2-test-").FullName;

    /// <summary>A scratch copy of the model fixture <paramref name="name"/> (Fixtures/models/NAME), for tests that edit
    /// or add files.</summary>
    protected string CopyModelFixture(string name)
    {
        string directory = Directory.CreateDirectory(Path.Combine(TempDirectory, name)).FullName;
        foreach (string file in Directory.GetFiles(TestSupport.FixturePath("models", name)))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        return directory;
    }

    [TestCleanup]
    public void DeleteTempDirectory() => Directory.Delete(TempDirectory, recursive: true);
}
