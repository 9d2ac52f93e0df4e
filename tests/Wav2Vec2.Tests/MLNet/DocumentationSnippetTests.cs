using System.Text.RegularExpressions;

namespace Wav2Vec2.Tests.MLNet;

/// <summary>
/// The code the README and the ML.NET guide show is compiled: every C# block of the checked sections must stand, line
/// for line, in the examples the solution builds.
/// </summary>
[TestClass]
public sealed class DocumentationSnippetTests
{
    [TestMethod]
    [DataRow("README.md", "## From C#", new[] { "QuickStart" }, "SpeechRecognizer.FromPretrained")]
    [DataRow("README.md", "## From ML.NET", new[] { "SpeakerClassification" }, "AppendCacheCheckpoint")]
    [DataRow("docs/mlnet.md", "## Features, transcription and sweeps", new[] { "SpeakerClassification" }, "AppendCacheCheckpoint")]
    [DataRow("docs/mlnet.md", "## Training", new[] { "SpeechRecognition", "SpeakerClassification" }, "mlContext.SpeechRecognition")]
    public void EveryShownSnippetIsPartOfABuiltExample(string page, string heading, string[] examples, string mustMention)
    {
        string root = RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, page));
        int start = readme.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.IsTrue(start >= 0, $"{page} has a section \"{heading}\"");
        int end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        string section = readme[start..(end < 0 ? readme.Length : end)];
        string[] code = examples.Select(e => string.Join("\n", Directory.GetFiles(Path.Combine(root, "examples", e), "*.cs")
            .Select(File.ReadAllText).Select(Normalize))).ToArray();
        var blocks = Regex.Matches(section, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.IsTrue(blocks.Count >= 1, "the section shows the program");
        foreach (Match block in blocks)
            Assert.IsTrue(code.Any(c => c.Contains(Normalize(block.Groups[1].Value), StringComparison.Ordinal)),
                $"this {page} block is not in examples/{string.Join(" or examples/", examples)}:\n{block.Groups[1].Value}");
        StringAssert.Contains(section, mustMention);
    }

    [TestMethod]
    public void TheTrainingSectionShowsAWholeProgramThatPreTrainsFineTunesEvaluatesSavesLoadsAndTranscribes()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "mlnet.md"));
        int start = readme.IndexOf("## Training\n", StringComparison.Ordinal);
        string program = Regex.Match(readme[start..], "```csharp\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        foreach (string step in new[] { "Wav2Vec2PreTrain(", "SpeechRecognition.Trainers.Wav2Vec2Ctc(", "SpeechRecognition.Evaluate(",
            "WordErrorRate", "SaveWav2Vec2(", "LoadWav2Vec2(", "CreatePredictionEngine<", "PredictedTranscript" })
            StringAssert.Contains(program, step);
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
