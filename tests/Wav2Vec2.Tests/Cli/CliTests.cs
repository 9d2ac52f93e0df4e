using static Wav2Vec2.Tests.Support.CliRunner;
using Wav2Vec2.IO;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Cli;

/// <summary>The w2v2 commands run in-process: outputs, exit codes, one-line errors and no partial files.</summary>
[TestClass]
public sealed class CliTests : TempDirectoryTest
{
    private static readonly string Model = FixturePath("models", "stable_layer");
    private static readonly string Audio = FixturePath("reference_audio.wav");

    [TestMethod]
    public void FeaturesWritesTheRequestedLayerAsNpy()
    {
        string npy = Path.Combine(TempDirectory, "f.npy");
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
        string npy = Path.Combine(TempDirectory, "l.npy");
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
    public void PrecisionInt8RunsFeaturesLogitsTranscribeAndEvaluateCloseToFp32()
    {
        string model = ExamplesPath("models", "tiny-en"), speech = ExamplesPath("data", "speech.wav");
        string fp32 = Path.Combine(TempDirectory, "fp32.npy"), int8 = Path.Combine(TempDirectory, "int8.npy");
        Assert.AreEqual(0, Run("features", "--model", model, "--audio", speech, "--out", fp32).Code);
        var (code, _, error) = Run("features", "--model", model, "--audio", speech, "--out", int8, "--precision", "int8");
        Assert.AreEqual(0, code, error);
        float[] expected = Npy.Read(fp32).ToArray(), actual = Npy.Read(int8).ToArray();
        CollectionAssert.AreNotEqual(expected, actual, "int8 ran");
        TestSupport.AssertClose(expected, actual, 0.1f, "int8 features");
        Assert.AreEqual(0, Run("logits", "--model", model, "--audio", speech, "--out", int8, "--precision", "int8").Code);

        string transcript = Run("transcribe", "--model", model, "--audio", speech, "--precision", "int8").Output.Trim();
        string library = new Wav2Vec2.Inference.SpeechRecognizer(Wav2Vec2.Models.Wav2Vec2ForCtc.FromPretrained(model)).Transcribe(speech);
        Assert.IsLessThanOrEqualTo(2, Wav2Vec2.Decoding.EditCounts.Characters(library, transcript).Errors, $"int8: {transcript}");
        string data = TestSupport.TranscribedCorpus(Path.Combine(TempDirectory, "corpus"), ["THE QUICK BROWN FOX"], speech);
        (code, string output, error) = Run("evaluate", "--model", model, "--data", data, "--precision", "int8");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "CER");
    }

    [TestMethod]
    public void QuantizeWritesAnInt8ModelThatTranscribeAndFeaturesRunWithoutAFlag()
    {
        string source = ExamplesPath("models", "tiny-en"), speech = ExamplesPath("data", "speech.wav");
        string model = Path.Combine(TempDirectory, "tiny-en-int8");
        var (code, output, error) = Run("quantize", "--model", source, "--out", model + Path.DirectorySeparatorChar);   // as tab completion writes it
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "CTC model in int8");
        Assert.AreEqual(Wav2Vec2.Nn.Precision.Int8, Wav2Vec2.Models.Wav2Vec2Config.Load(Path.Combine(model, "config.json")).WeightsPrecision);
        CollectionAssert.IsSubsetOf(Directory.GetFiles(source).Select(Path.GetFileName).ToArray(), Directory.GetFiles(model).Select(Path.GetFileName).ToArray(),
            "every file of the source model is there");
        long fp32Bytes = 4 * Wav2Vec2.Models.ModelSummary.Read(source).ParameterCount;   // the bundled file is fp16
        Assert.AreEqual(Wav2Vec2.Models.ModelSummary.Read(source).ParameterCount, Wav2Vec2.Models.ModelSummary.Read(model).ParameterCount,
            "the scales are not counted as parameters");
        Assert.IsLessThan(0.35 * fp32Bytes, new FileInfo(Path.Combine(model, "model.safetensors")).Length);
        Assert.AreEqual(0, Directory.GetFileSystemEntries(TempDirectory, ".*partial*").Length, "no staging directory left");

        // Without --precision the commands run the model as stored: in int8, as the same model quantised in memory.
        string inMemory = Run("transcribe", "--model", source, "--audio", speech, "--precision", "int8").Output;
        (code, output, error) = Run("transcribe", "--model", model, "--audio", speech);
        Assert.AreEqual(0, code, error);
        if (Wav2Vec2.Kernels.Int8Gemm.WeightRange == Wav2Vec2.Kernels.Int8Weights.FullRange)
            Assert.AreEqual(inMemory, output);
        string npy = Path.Combine(TempDirectory, "f.npy");
        Assert.AreEqual(0, Run("features", "--model", model, "--audio", speech, "--out", npy, "--precision", "int8").Code);

        (code, _, error) = Run("transcribe", "--model", model, "--audio", speech, "--precision", "fp32");
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "this model is stored in int8");
        (code, _, error) = Run("quantize", "--model", model, "--out", Path.Combine(TempDirectory, "twice"));
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "is already stored in int8");
        Assert.AreEqual(1, Run("quantize", "--model", source, "--out", model).Code, "refuses to overwrite a model");
        (code, _, error) = Run("finetune", "--init", model, "--train", TestSupport.TranscribedCorpus(Path.Combine(TempDirectory, "c"), ["A"], speech),
            "--out", Path.Combine(TempDirectory, "run"), "--max-updates", "1");
        Assert.AreEqual(1, code, error);
        StringAssert.Contains(error, "held in int8 only");
        (code, _, error) = Run("export-onnx", "--model", model, "--out", Path.Combine(TempDirectory, "m.onnx"));
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "holds its weights in int8 only");

        string bf16 = Path.Combine(TempDirectory, "tiny-en-bf16");
        (code, output, error) = Run("quantize", "--model", source, "--out", bf16, "--precision", "bf16");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "CTC model in bf16");
        Assert.AreEqual(Run("transcribe", "--model", source, "--audio", speech, "--precision", "bf16").Output,
            Run("transcribe", "--model", bf16, "--audio", speech).Output, "the bf16 directory runs in bf16, as the source does with the flag");
        StringAssert.Contains(Run("transcribe", "--model", bf16, "--audio", speech, "--precision", "int8").Error, "this model is stored in bf16");
    }

    [TestMethod]
    public void TranscribeReadsMp3OggAndOpus()
    {
        string[] files = [.. new[] { "cbr.mp3", "stereo44.ogg", "speech.opus" }.Select(f => FixturePath("compressed", f))];
        var (code, output, error) = Run(["transcribe", "--model", Model, "--audio", .. files]);
        Assert.AreEqual(0, code, error);
        string[] lines = output.TrimEnd().Split('\n');
        CollectionAssert.AreEqual(files, lines.Select(l => l.Split('\t')[0]).ToArray());
        var recognizer = Wav2Vec2.Inference.SpeechRecognizer.FromPretrained(Model);
        Assert.AreEqual(recognizer.Transcribe(files[0]), lines[0].Split('\t')[1], "the CLI reads the MP3 as the library does");
    }

    [TestMethod]
    public void InitWritesAModelThatFeaturesAndInspectAccept()
    {
        string model = Path.Combine(TempDirectory, "tiny");
        var (code, output, error) = Run("init", "--preset", "tiny", "--out", model, "--seed", "3");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "tiny model");
        (code, output, _) = Run("inspect", "--model", model);
        Assert.AreEqual(0, code);
        StringAssert.Contains(output, "4 layers x 256");
        StringAssert.Contains(output, "none (backbone only)");
        string npy = Path.Combine(TempDirectory, "t.npy");
        Assert.AreEqual(0, Run("features", "--model", model, "--audio", Audio, "--out", npy, "--layer", "0").Code);
        CollectionAssert.AreEqual(new[] { 29, 256 }, Npy.Read(npy).ShapeArray);
        Assert.AreEqual(1, Run("init", "--preset", "tiny", "--out", model).Code, "refuses to overwrite a model");
    }

    [TestMethod]
    [DataRow("no-model", "error: model directory")]
    [DataRow("bad-audio", "not an audio file")]
    [DataRow("missing-audio", "does not exist")]
    [DataRow("bad-layer", "--layer must be in [0, 2]")]
    [DataRow("bad-out-dir", "output directory")]
    [DataRow("unknown-flag", "error: Unrecognized command or argument '--bogus'")]
    [DataRow("missing-flag", "error: Option '--out' is required")]
    [DataRow("bad-preset", "error: Argument 'huge' not recognized")]
    [DataRow("bad-precision", "error: Argument 'fp8' not recognized")]
    public void UserErrorsPrintOneLineExitNonZeroAndLeaveNoOutput(string scenario, string expected)
    {
        string npy = Path.Combine(TempDirectory, "out.npy");
        string notWav = Path.Combine(Model, "config.json");
        string[] args = scenario switch
        {
            "no-model" => ["features", "--model", Path.Combine(TempDirectory, "none"), "--audio", Audio, "--out", npy],
            "bad-audio" => ["features", "--model", Model, "--audio", notWav, "--out", npy],
            "missing-audio" => ["features", "--model", Model, "--audio", Path.Combine(TempDirectory, "x.wav"), "--out", npy],
            "bad-layer" => ["features", "--model", Model, "--audio", Audio, "--out", npy, "--layer", "7"],
            "bad-out-dir" => ["features", "--model", Model, "--audio", Audio, "--out", Path.Combine(TempDirectory, "no", "x.npy")],
            "unknown-flag" => ["features", "--bogus"],
            "missing-flag" => ["features", "--model", Model, "--audio", Audio],
            "bad-precision" => ["features", "--model", Model, "--audio", Audio, "--out", npy, "--precision", "fp8"],
            _ => ["init", "--preset", "huge", "--out", Path.Combine(TempDirectory, "m")],
        };
        var (code, output, error) = Run(args);
        Assert.AreNotEqual(0, code);
        StringAssert.Contains(error, expected);
        Assert.AreEqual(1, error.TrimEnd().Split('\n').Length, $"one line, no stack trace: {error}");
        Assert.AreEqual("", output);
        Assert.AreEqual(0, Directory.GetFiles(TempDirectory, "*", SearchOption.AllDirectories).Length, "no output left behind");
    }

    [TestMethod]
    public void VerboseShowsTheStackTrace()
    {
        var (code, _, error) = Run("features", "--model", Model, "--audio", Path.Combine(Model, "config.json"),
            "--out", Path.Combine(TempDirectory, "x.npy"), "--verbose");
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "   at ");
    }
}
