using System.Text;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.IO;
using static Wav2Vec2.Tests.Support.CliRunner;

namespace Wav2Vec2.Tests.IO;

/// <summary>
/// A *ProcessorWithLM repo's language_model folder (pyctcdecode's layout) fetched on request and decoded with its
/// attrs.json weights; KenLM binaries refused; the environment's defaults; the command line by repo id.
/// </summary>
[TestClass]
public sealed class HubLanguageModelTests : TempDirectoryTest
{
    private const string Attrs = """{"alpha": 0.7, "beta": 2.0, "unk_score_offset": -8.0, "score_boundary": false}""";
    private static readonly byte[] Arpa = File.ReadAllBytes(FixturePath("lm", "small.arpa"));

    private string Cache => Path.Combine(TempDirectory, "cache");

    [TestMethod]
    public void TheLanguageModelFolderIsFetchedOnRequestAndDecodesWithItsWeights()
    {
        using var hub = new FakeHub();
        hub.AddRepo("org/tiny-lm", FakeHub.FilesOf(ModelHubTests.ModelDirectory,
            ("alphabet.json", """{"labels": ["", "<s>", "</s>", "\u2047", " ", "E", "T", "A", "O", "N", "I", "H"], "is_bpe": false}"""u8.ToArray()),
            ("language_model/attrs.json", Encoding.UTF8.GetBytes(Attrs)),
            ("language_model/unigrams.txt", "A\nAB\nABA\nB\nBA\n"u8.ToArray()),
            ("language_model/5gram_correct.arpa", Arpa)));
        HubOptions options = ModelHubTests.Options(Cache, hub.Endpoint);
        string plain = ModelHub.Resolve("org/tiny-lm", options);
        Assert.IsFalse(Directory.Exists(Path.Combine(plain, "language_model")), "only on request");

        string directory = ModelHub.Resolve("org/tiny-lm", options with { IncludeLanguageModel = true });
        CollectionAssert.AreEqual(Arpa, File.ReadAllBytes(Path.Combine(directory, "language_model", "5gram_correct.arpa")));
        Assert.IsTrue(File.Exists(Path.Combine(directory, "alphabet.json")));
        hub.Dispose();
        Assert.AreEqual(directory, ModelHub.Resolve("org/tiny-lm", options with { IncludeLanguageModel = true }), "cached");

        var settings = CtcDecoderSettings.FromLanguageModelFolder(Path.Combine(directory, "language_model"));
        Assert.AreEqual(new BeamSearchOptions { LanguageModelWeight = 0.7f, WordInsertionBonus = 2f, UnknownWordScore = -8f, ScoreSentenceBoundaries = false },
            settings.BeamSearch);
        var recognizer = SpeechRecognizer.FromPretrained(directory, settings);
        var decoder = (CtcBeamSearchDecoder)recognizer.Decoder;
        Assert.AreEqual(0.7f, decoder.Options.LanguageModelWeight);
        Assert.IsNotNull(decoder.Words.LanguageModel, "the ARPA file is loaded");
        Assert.IsNotNull(recognizer.Transcribe(FixturePath("reference_audio.wav")));
    }

    [TestMethod]
    public void ARepoWithoutLanguageModelIsRememberedAsSuch()
    {
        using var hub = new FakeHub();
        string commit = hub.AddRepo("org/tiny", FakeHub.FilesOf(ModelHubTests.ModelDirectory));
        HubOptions options = ModelHubTests.Options(Cache, hub.Endpoint) with { IncludeLanguageModel = true };
        string directory = ModelHub.Resolve("org/tiny", options);
        Assert.IsTrue(File.Exists(Path.Combine(Cache, "models--org--tiny", ".no_exist", commit, "language_model", "attrs.json")));
        hub.Dispose();
        Assert.AreEqual(directory, ModelHub.Resolve("org/tiny", options));
    }

    [TestMethod]
    public void AKenLmBinaryIsRefusedWithOneLineAskingForArpa()
    {
        string folder = Directory.CreateDirectory(Path.Combine(TempDirectory, "language_model")).FullName;
        File.WriteAllText(Path.Combine(folder, "attrs.json"), Attrs);
        File.WriteAllText(Path.Combine(folder, "unigrams.txt"), "A\n");
        string binary = Path.Combine(folder, "lm.binary");
        File.WriteAllBytes(binary, [.. "mmap lm http://kheafield.com/code format version 5\n\0"u8, .. new byte[200]]);

        foreach (Func<object> load in new Func<object>[] { () => CtcDecoderSettings.FromLanguageModelFolder(folder), () => NGramLanguageModel.Load(binary) })
        {
            var error = Assert.ThrowsExactly<InvalidDataException>(() => load());
            StringAssert.Contains(error.Message, "lm.binary is a KenLM binary language model; an ARPA file (plain or .gz) is needed");
            ModelHubTests.AssertOneLine(error);
        }
        var (code, _, stderr) = Run("transcribe", "--model", ModelHubTests.ModelDirectory, "--audio", FixturePath("reference_audio.wav"), "--lm", folder);
        Assert.AreEqual(1, code);
        Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
        StringAssert.Contains(stderr, "KenLM binary");
    }

    [TestMethod]
    public void DefaultsFollowPythonsEnvironmentRules()
    {
        HubOptions From(params (string Name, string Value)[] variables) =>
            new(name => variables.FirstOrDefault(v => v.Name == name).Value);
        string home = Path.Combine(TempDirectory, "hf");
        string xdg = Path.Combine(TempDirectory, "xdg");
        Assert.AreEqual(Path.Combine(home, "hub"), From(("HF_HOME", home), ("XDG_CACHE_HOME", xdg)).CacheDirectory);
        Assert.AreEqual(Path.Combine(xdg, "huggingface", "hub"), From(("XDG_CACHE_HOME", xdg)).CacheDirectory);
        Assert.AreEqual("/c", From(("HF_HUB_CACHE", "/c"), ("HF_HOME", home)).CacheDirectory);
        Assert.AreEqual(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub"), From().CacheDirectory);

        Assert.AreEqual("https://huggingface.co", From().Endpoint);
        Assert.AreEqual("https://mirror.example", From(("HF_ENDPOINT", "https://mirror.example/")).Endpoint);
        Assert.AreEqual("main", From().Revision);

        Directory.CreateDirectory(home);
        File.WriteAllText(Path.Combine(home, "token"), " hf_file\n");
        Assert.AreEqual("hf_file", From(("HF_HOME", home)).Token, "the token file, cleaned");
        Assert.AreEqual("hf_b", From(("HF_HOME", home), ("HUGGING_FACE_HUB_TOKEN", "hf_b")).Token);
        Assert.AreEqual("hf_a", From(("HF_HOME", home), ("HUGGING_FACE_HUB_TOKEN", "hf_b"), ("HF_TOKEN", "hf_a\r\n")).Token);
        Assert.IsNull(From(("HF_HOME", TempDirectory)).Token);

        Assert.IsTrue(From(("HF_HUB_OFFLINE", "yes")).Offline);
        Assert.IsTrue(From(("TRANSFORMERS_OFFLINE", "On")).Offline);
        Assert.IsFalse(From(("HF_HUB_OFFLINE", "0")).Offline);
        Assert.IsFalse(From(("HF_HUB_OFFLINE", "offline")).Offline);
    }

    [TestMethod]
    [DoNotParallelize]   // sets process environment variables (restored afterwards)
    public void FromPretrainedAndTheCommandLineTakeARepoIdWithTheEnvironmentsSettings()
    {
        using var hub = new FakeHub();
        hub.AddRepo("org/tiny", FakeHub.FilesOf(ModelHubTests.ModelDirectory));
        var variables = new Dictionary<string, string?>
        {
            ["HF_ENDPOINT"] = hub.Endpoint, ["HF_HUB_CACHE"] = Cache, ["HF_TOKEN"] = null, ["HUGGING_FACE_HUB_TOKEN"] = null,
            ["HF_TOKEN_PATH"] = Path.Combine(TempDirectory, "no-token"), ["HF_HUB_OFFLINE"] = null, ["TRANSFORMERS_OFFLINE"] = null,
        };
        var saved = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (name, value) in variables)
                Environment.SetEnvironmentVariable(name, value);
            var (code, output, error) = Run("inspect", "--model", "org/tiny");
            Assert.AreEqual(0, code, error);
            StringAssert.Contains(output, "CTC, vocab_size 12");
            Assert.AreEqual(12, Wav2Vec2.Models.Wav2Vec2ForCtc.FromPretrained("org/tiny").Tokenizer!.Count);

            (code, _, error) = Run("logits", "--model", "org/missing", "--audio", FixturePath("reference_audio.wav"), "--out", Path.Combine(TempDirectory, "l.npy"));
            Assert.AreEqual(1, code);
            Assert.AreEqual($"error: no model named org/missing on {hub.Endpoint} (if it is private or gated, set HF_TOKEN)", error.Trim());
            Assert.IsFalse(File.Exists(Path.Combine(TempDirectory, "l.npy")));
        }
        finally
        {
            foreach (var (name, value) in saved)
                Environment.SetEnvironmentVariable(name, value);
        }
    }
}
