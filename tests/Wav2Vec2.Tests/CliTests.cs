using Wav2Vec2.Cli;
using Wav2Vec2.IO;
using Wav2Vec2.Tensors;
using static Wav2Vec2.Tests.ModelParityTests;

namespace Wav2Vec2.Tests;

/// <summary>The w2v2 commands run in-process: outputs, exit codes, one-line errors and no partial files.</summary>
[TestClass]
public sealed class CliTests
{
    private string _directory = "";
    private static readonly string Model = FixturePath("models", "stable_layer");
    private static readonly string Audio = FixturePath("reference_audio.wav");

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("w2v2-cli-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [TestMethod]
    public void FeaturesWritesTheRequestedLayerAsNpy()
    {
        string npy = Path.Combine(_directory, "f.npy");
        var (code, output, error) = Run("features", "--model", Model, "--audio", Audio, "--out", npy, "--layer", "1");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "239 frames x 32 (layer 1)");
        Tensor features = Npy.Read(npy);
        using var reference = SafeTensorsFile.Open(FixturePath("stable_layer.reference.safetensors"));
        TestSupport.AssertClose(reference.Read("hidden_states.1").Span, features.Span, 1e-4f, "CLI layer 1");
        byte[] header = File.ReadAllBytes(npy)[..80];
        StringAssert.Contains(System.Text.Encoding.ASCII.GetString(header), "'descr': '<f4', 'fortran_order': False, 'shape': (239, 32)");
    }

    [TestMethod]
    public void LogitsAndTranscribeUseTheCtcHead()
    {
        string npy = Path.Combine(_directory, "l.npy");
        Assert.AreEqual(0, Run("logits", "--model", Model, "--audio", Audio, "--out", npy).Code);
        using var reference = SafeTensorsFile.Open(FixturePath("stable_layer.reference.safetensors"));
        TestSupport.AssertClose(reference.Read("logits").Span, Npy.Read(npy).Span, 1e-4f, "CLI logits");
        var (code, output, _) = Run("transcribe", "--model", Model, "--audio", Audio, Audio);
        Assert.AreEqual(0, code);
        string[] lines = output.TrimEnd().Split('\n');
        Assert.AreEqual(2, lines.Length, "one line per file");
        Assert.IsTrue(lines.All(l => l.StartsWith(Audio + "\t", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void InitWritesAModelThatFeaturesAndInspectAccept()
    {
        string model = Path.Combine(_directory, "tiny");
        var (code, output, error) = Run("init", "--preset", "tiny", "--out", model, "--seed", "3");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "tiny model");
        (code, output, _) = Run("inspect", "--model", model);
        Assert.AreEqual(0, code);
        StringAssert.Contains(output, "4 layers x 256");
        StringAssert.Contains(output, "none (backbone only)");
        string npy = Path.Combine(_directory, "t.npy");
        Assert.AreEqual(0, Run("features", "--model", model, "--audio", Audio, "--out", npy, "--layer", "0").Code);
        CollectionAssert.AreEqual(new[] { 29, 256 }, Npy.Read(npy).ShapeArray);
        Assert.AreEqual(1, Run("init", "--preset", "tiny", "--out", model).Code, "refuses to overwrite a model");
    }

    [TestMethod]
    [DataRow("no-model", "error: model directory")]
    [DataRow("bad-audio", "not a WAV file")]
    [DataRow("missing-audio", "does not exist")]
    [DataRow("bad-layer", "--layer must be in [0, 2]")]
    [DataRow("bad-out-dir", "output directory")]
    [DataRow("unknown-flag", "error: Unrecognized command or argument '--bogus'")]
    [DataRow("missing-flag", "error: Option '--out' is required")]
    [DataRow("bad-preset", "error: Argument 'huge' not recognized")]
    public void UserErrorsPrintOneLineExitNonZeroAndLeaveNoOutput(string scenario, string expected)
    {
        string npy = Path.Combine(_directory, "out.npy");
        string notWav = Path.Combine(Model, "config.json");
        string[] args = scenario switch
        {
            "no-model" => ["features", "--model", Path.Combine(_directory, "none"), "--audio", Audio, "--out", npy],
            "bad-audio" => ["features", "--model", Model, "--audio", notWav, "--out", npy],
            "missing-audio" => ["features", "--model", Model, "--audio", Path.Combine(_directory, "x.wav"), "--out", npy],
            "bad-layer" => ["features", "--model", Model, "--audio", Audio, "--out", npy, "--layer", "7"],
            "bad-out-dir" => ["features", "--model", Model, "--audio", Audio, "--out", Path.Combine(_directory, "no", "x.npy")],
            "unknown-flag" => ["features", "--bogus"],
            "missing-flag" => ["features", "--model", Model, "--audio", Audio],
            _ => ["init", "--preset", "huge", "--out", Path.Combine(_directory, "m")],
        };
        var (code, output, error) = Run(args);
        Assert.AreNotEqual(0, code);
        StringAssert.Contains(error, expected);
        Assert.AreEqual(1, error.TrimEnd().Split('\n').Length, $"one line, no stack trace: {error}");
        Assert.AreEqual("", output);
        Assert.AreEqual(0, Directory.GetFiles(_directory, "*", SearchOption.AllDirectories).Length, "no output left behind");
    }

    [TestMethod]
    public void VerboseShowsTheStackTrace()
    {
        var (code, _, error) = Run("features", "--model", Model, "--audio", Path.Combine(Model, "config.json"),
            "--out", Path.Combine(_directory, "x.npy"), "--verbose");
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "   at ");
    }
}
