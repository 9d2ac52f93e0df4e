using System.Text.RegularExpressions;

namespace Wav2Vec2.Tests.MLNet;

/// <summary>
/// The README's "Using it from ML.NET" code is compiled: every C# block there must stand, line for line, in the
/// SpeakerClassification example, which the solution builds.
/// </summary>
[TestClass]
public sealed class ReadmeSnippetTests
{
    [TestMethod]
    public void EveryMLNetSnippetOfTheReadmeIsPartOfTheBuiltExample()
    {
        string root = RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        int start = readme.IndexOf("## Using it from ML.NET", StringComparison.Ordinal);
        Assert.IsTrue(start >= 0, "README has a section \"Using it from ML.NET\"");
        int end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        string section = readme[start..(end < 0 ? readme.Length : end)];
        string example = string.Join("\n", Directory.GetFiles(Path.Combine(root, "examples", "SpeakerClassification"), "*.cs")
            .Select(File.ReadAllText).Select(Normalize));
        var blocks = Regex.Matches(section, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.IsTrue(blocks.Count >= 1, "the section shows the program");
        foreach (Match block in blocks)
            Assert.IsTrue(example.Contains(Normalize(block.Groups[1].Value), StringComparison.Ordinal),
                $"this README block is not in examples/SpeakerClassification:\n{block.Groups[1].Value}");
        StringAssert.Contains(section, "AppendCacheCheckpoint", "the cache checkpoint pitfall is explained");
    }

    // Lines trimmed, blank lines dropped: indentation may differ between a README block and a method body.
    private static string Normalize(string code) => string.Join("\n", code.Replace("\r", "").Split('\n')
        .Select(line => line.Trim()).Where(line => line.Length > 0));

    private static string RepositoryRoot()
    {
        for (string? directory = AppContext.BaseDirectory; directory != null; directory = Path.GetDirectoryName(directory))
            if (File.Exists(Path.Combine(directory, "Wav2Vec2.MLNet.sln")))
                return directory;
        throw new InvalidOperationException("repository root (Wav2Vec2.MLNet.sln) not found above " + AppContext.BaseDirectory);
    }
}
