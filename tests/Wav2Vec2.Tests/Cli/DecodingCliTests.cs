using static Wav2Vec2.Tests.Support.CliRunner;

namespace Wav2Vec2.Tests.Cli;

/// <summary>transcribe, evaluate and tune-lm with beam search and an n-gram language model.</summary>
[TestClass]
public sealed class DecodingCliTests : TempDirectoryTest
{
    private static readonly string Model = FixturePath("models", "stable_layer");
    private static readonly string Lm = FixturePath("lm", "fortunes-3gram.arpa.gz");

    private string DevSet()
    {
        string folder = Directory.CreateDirectory(Path.Combine(TempDirectory, "dev")).FullName;
        File.Copy(FixturePath("reference_audio.wav"), Path.Combine(folder, "a.wav"));
        File.Copy(FixturePath("flac", "speech16.flac"), Path.Combine(folder, "b.flac"));
        File.WriteAllText(Path.Combine(folder, "dev.tsv"), "a.wav\tTHE TEA\nb.flac\tNO HAT\n");
        return Path.Combine(folder, "dev.tsv");
    }

    [TestMethod]
    public void TranscribeAndEvaluateDecodeWithTheLanguageModel()
    {
        var (code, output, error) = Run("transcribe", "--model", Model, "--audio", FixturePath("reference_audio.wav"), "--lm", Lm, "--beam-width", "16", "--lm-weight", "0.8");
        Assert.AreEqual(0, code, error);
        Assert.AreEqual(1, output.Trim().Split('\n').Length);
        (code, output, error) = Run("evaluate", "--model", Model, "--data", DevSet(), "--lm", Lm, "--beam-width", "8");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "utterances: 2");
        StringAssert.Contains(output, "in 4 words");
    }

    [TestMethod]
    public void TuneLmPrintsTheWholeGridAndTheBestPoint()
    {
        var (code, output, error) = Run("tune-lm", "--model", Model, "--data", DevSet(), "--lm", Lm, "--beam-width", "8",
            "--lm-weights", "0,0.5", "--word-scores", "0,1,2");
        Assert.AreEqual(0, code, error);
        string[] lines = output.Trim().Split('\n');
        Assert.AreEqual("lm_weight\tword_score\twer\tcer", lines[0]);
        Assert.AreEqual(1 + 6 + 1, lines.Length, output);
        StringAssert.StartsWith(lines[^1], "best: --lm-weight ");
        StringAssert.Contains(lines[^1], "on 2 utterances");
    }

    [TestMethod]
    [DataRow("missing-lm", "language model file")]
    [DataRow("zero-width", "--beam-width must be at least 1")]
    [DataRow("bad-grid", "--lm-weights must be a comma-separated list of numbers")]
    [DataRow("tune-without-lm", "--lm")]
    public void DecodingFlagErrorsPrintOneLine(string scenario, string expected)
    {
        string audio = FixturePath("reference_audio.wav");
        string[] args = scenario switch
        {
            "missing-lm" => ["transcribe", "--model", Model, "--audio", audio, "--lm", Path.Combine(TempDirectory, "none.arpa")],
            "zero-width" => ["transcribe", "--model", Model, "--audio", audio, "--beam-width", "0"],
            "bad-grid" => ["tune-lm", "--model", Model, "--data", DevSet(), "--lm", Lm, "--lm-weights", "a,b"],
            _ => ["tune-lm", "--model", Model, "--data", DevSet()],
        };
        var (code, _, error) = Run(args);
        Assert.AreNotEqual(0, code);
        StringAssert.Contains(error, expected);
        Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
    }
}
