using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.IO;
using Wav2Vec2.Models;

namespace Wav2Vec2.Tests.IO;

/// <summary>
/// Models by name against <see cref="FakeHub"/> (the real hub cannot be reached from the build machines): Python's
/// cache layout both ways, resume, the one-line errors, offline mode and cancellation.
/// </summary>
[TestClass]
public sealed class ModelHubTests : TempDirectoryTest
{
    internal const string Repo = "org/tiny";
    internal static readonly string ModelDirectory = FixturePath("models", "post_ln_group");   // CTC head, safetensors, vocab
    private FakeHub _hub = null!;
    private string _commit = "";

    private string Cache => Path.Combine(TempDirectory, "cache");
    private string RepoFolder => Path.Combine(Cache, "models--org--tiny");
    private static byte[] Weights => File.ReadAllBytes(Path.Combine(ModelDirectory, "model.safetensors"));
    private string WeightsBlob => Path.Combine(RepoFolder, "blobs", FakeHub.Sha256(Weights));

    [TestInitialize]
    public void StartHub()
    {
        _hub = new FakeHub();
        _commit = _hub.AddRepo(Repo, FakeHub.FilesOf(ModelDirectory));
    }

    [TestCleanup]
    public void StopHub() => _hub.Dispose();

    /// <summary>Explicit options: no token or cache of the machine's environment leaks in.</summary>
    internal static HubOptions Options(string cache, string endpoint) =>
        new HubOptions(_ => null) with { CacheDirectory = cache, Endpoint = endpoint };

    private HubOptions Options() => Options(Cache, _hub.Endpoint);

    [TestMethod]
    public void DownloadsByNameIntoPythonsLayoutAndLoadsLikeTheDirectory()
    {
        var reports = new List<HubProgress>();
        string directory = ModelHub.Resolve(Repo, Options(), new Sink(reports.Add));

        Assert.AreEqual(Path.Combine(RepoFolder, "snapshots", _commit), directory);
        Assert.AreEqual(_commit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")), "the commit, without a newline");
        byte[] config = File.ReadAllBytes(Path.Combine(ModelDirectory, "config.json"));
        Assert.AreEqual($"../../blobs/{FakeHub.GitBlobSha1(config)}", new FileInfo(Path.Combine(directory, "config.json")).LinkTarget,
            "a relative link to the blob named by the weak ETag, unquoted");
        Assert.AreEqual($"../../blobs/{FakeHub.Sha256(Weights)}", new FileInfo(Path.Combine(directory, "model.safetensors")).LinkTarget,
            "the weights' blob is named by X-Linked-Etag");
        Assert.IsTrue(File.Exists(Path.Combine(RepoFolder, ".no_exist", _commit, "tokenizer_config.json")), "a known-missing file is remembered");
        Assert.IsTrue(File.Exists(Path.Combine(Cache, "CACHEDIR.TAG")));
        Assert.IsFalse(Directory.EnumerateFiles(Cache, "*.incomplete", SearchOption.AllDirectories).Any());
        CollectionAssert.Contains(_hub.Requests, $"GET /cdn/{FakeHub.Sha256(Weights)}", "the weights come from the redirect's address");
        Assert.IsFalse(_hub.Requests.Any(r => r.Contains("pytorch_model", StringComparison.Ordinal)), "only the first weights found are fetched");
        HubProgress last = reports.Last(r => r.File == "model.safetensors");
        Assert.AreEqual((long)Weights.Length, last.BytesDone);
        Assert.AreEqual((long)Weights.Length, last.TotalBytes);

        AudioClip audio = AudioFile.Read(FixturePath("reference_audio.wav"));
        var byName = Wav2Vec2ForCtc.FromPretrained(directory);
        var byDirectory = Wav2Vec2ForCtc.FromPretrained(ModelDirectory);
        CollectionAssert.AreEqual(byDirectory.Logits(audio).ToArray(), byName.Logits(audio).ToArray());
        Assert.AreEqual(byDirectory.Tokenizer!.Count, byName.Tokenizer!.Count);
    }

    [TestMethod]
    public void ASecondResolveUsesTheCacheWithTheServerStopped()
    {
        string first = ModelHub.Resolve(Repo, Options());
        _hub.Dispose();
        Assert.AreEqual(first, ModelHub.Resolve(Repo, Options()));
        Assert.AreEqual(first, ModelHub.Resolve(Repo, Options() with { Offline = true }));
    }

    [TestMethod]
    public void UsesACacheLaidOutByPythonWithoutTouchingTheNetwork()
    {
        // As huggingface_hub leaves it: blobs by etag, relative links (one plain copy, as where links fail), .no_exist.
        string snapshot = Path.Combine(RepoFolder, "snapshots", _commit);
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(RepoFolder, "blobs"));
        Directory.CreateDirectory(Path.Combine(RepoFolder, "refs"));
        File.WriteAllText(Path.Combine(RepoFolder, "refs", "main"), _commit);
        foreach (string file in new[] { "config.json", "model.safetensors", "vocab.json" })
        {
            string etag = FakeHub.Sha256(File.ReadAllBytes(Path.Combine(ModelDirectory, file)));
            File.Copy(Path.Combine(ModelDirectory, file), Path.Combine(RepoFolder, "blobs", etag));
            File.CreateSymbolicLink(Path.Combine(snapshot, file), $"../../blobs/{etag}");
        }
        File.Copy(Path.Combine(ModelDirectory, "preprocessor_config.json"), Path.Combine(snapshot, "preprocessor_config.json"));
        Directory.CreateDirectory(Path.Combine(RepoFolder, ".no_exist", _commit));
        foreach (string file in new[] { "tokenizer_config.json", "special_tokens_map.json" })
            File.Create(Path.Combine(RepoFolder, ".no_exist", _commit, file)).Dispose();

        string directory = ModelHub.Resolve(Repo, Options());
        Assert.AreEqual(snapshot, directory);
        Assert.AreEqual(0, _hub.Requests.Count, "a complete snapshot needs no network");
        Assert.AreEqual(12, Wav2Vec2ForCtc.FromPretrained(directory).Tokenizer!.Count);
        Assert.AreEqual(snapshot, ModelHub.Resolve(Repo, Options() with { Revision = _commit }), "a commit is used directly");
    }

    [TestMethod]
    public void AnInterruptedDownloadFailsCleanlyAndTheNextRunResumesIt()
    {
        _hub.CutAfter = 40_000;
        var error = Assert.ThrowsExactly<HubException>(() => ModelHub.Resolve(Repo, Options()));
        StringAssert.Contains(error.Message, "org/tiny/model.safetensors: the download stopped at 40,000 of");
        AssertOneLine(error);
        Assert.IsFalse(File.Exists(WeightsBlob), "no blob from a partial download");
        Assert.IsFalse(File.Exists(Path.Combine(RepoFolder, "snapshots", _commit, "model.safetensors")), "no snapshot entry either");
        Assert.AreEqual(40_000, new FileInfo(WeightsBlob + ".incomplete").Length);

        _hub.CutAfter = null;
        ModelHub.Resolve(Repo, Options());
        CollectionAssert.Contains(_hub.Requests, $"GET /cdn/{FakeHub.Sha256(Weights)} bytes=40000-", "resumed with Range");
        CollectionAssert.AreEqual(Weights, File.ReadAllBytes(WeightsBlob));
    }

    [TestMethod]
    public void AServerThatIgnoresTheRangeRestartsTheDownload()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(WeightsBlob)!);
        File.WriteAllBytes(WeightsBlob + ".incomplete", new byte[1000]);   // not a prefix: appending would corrupt
        _hub.IgnoreRange = true;
        string directory = ModelHub.Resolve(Repo, Options());
        CollectionAssert.Contains(_hub.Requests, $"GET /cdn/{FakeHub.Sha256(Weights)} bytes=1000-");
        CollectionAssert.AreEqual(Weights, File.ReadAllBytes(Path.Combine(directory, "model.safetensors")));
    }

    [TestMethod]
    [DataRow("unknown", "no model named org/none on http://127.0.0.1:")]
    [DataRow("gated", "org/tiny is gated: accept its conditions on its hub page and set HF_TOKEN")]
    [DataRow("refused", "cannot reach http://127.0.0.1:")]
    [DataRow("offline", "org/tiny is not in the cache at ")]
    public void FailuresAreOneLineHubErrorsThatLeaveNothingBehind(string scenario, string expected)
    {
        HubOptions options = Options();
        string repo = Repo;
        if (scenario == "unknown")
            repo = "org/none";
        else if (scenario == "gated")
            _hub.RequiredToken = "secret";
        else if (scenario == "refused")
            _hub.Dispose();
        else
            options = options with { Offline = true };
        var error = Assert.ThrowsExactly<HubException>(() => ModelHub.Resolve(repo, options));
        StringAssert.Contains(error.Message, expected);
        AssertOneLine(error);
        Assert.AreEqual(repo, error.RepoId);
        if (scenario is "refused" or "offline")
            StringAssert.Contains(error.Message, RepoFolder, "names the cache path looked in");
        Assert.IsFalse(Directory.Exists(Path.Combine(Cache, $"models--{repo.Replace("/", "--")}", "blobs")));
        if (scenario == "offline")
            Assert.AreEqual(0, _hub.Requests.Count);
        if (scenario == "gated")
            Assert.AreEqual(_commit, Path.GetFileName(ModelHub.Resolve(repo, options with { Token = "secret" })), "the token opens it");
    }

    [TestMethod]
    public void CancellationLeavesNoBlobOrSnapshotEntry()
    {
        using var cancel = new CancellationTokenSource();
        var sink = new Sink(p =>
        {
            if (p.File == "model.safetensors")
                cancel.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() => ModelHub.Resolve(Repo, Options(), sink, cancel.Token));
        Assert.IsFalse(File.Exists(WeightsBlob));
        Assert.IsFalse(File.Exists(Path.Combine(RepoFolder, "snapshots", _commit, "model.safetensors")));
    }

    [TestMethod]
    [DataRow("facebook/wav2vec2-base-960h", true)]
    [DataRow("wav2vec2-base", true)]
    [DataRow("a/b/c", false)]
    [DataRow("org/-name", false)]
    [DataRow("org/na--me", false)]
    [DataRow("org/na..me", false)]
    [DataRow("/abs/path", false)]
    [DataRow("./model", false)]
    public void RepoIdsAreRecognisedAsHuggingFaceDoes(string name, bool valid) => Assert.AreEqual(valid, ModelHub.IsRepoId(name), name);

    [TestMethod]
    public void ANameThatIsNeitherADirectoryNorARepoIdSaysSo()
    {
        var error = Assert.ThrowsExactly<DirectoryNotFoundException>(() => ModelHub.Resolve(Path.Combine(TempDirectory, "none"), Options()));
        StringAssert.Contains(error.Message, "does not exist, and it is not a Hugging Face repo id");
        Assert.AreEqual(TempDirectory, ModelHub.Resolve(TempDirectory, Options()), "an existing directory wins");
    }

    internal static void AssertOneLine(Exception error) => Assert.IsFalse(error.Message.Contains('\n'), error.Message);

    /// <summary>Reports synchronously, on the downloading thread.</summary>
    internal sealed class Sink(Action<HubProgress> report) : IProgress<HubProgress>
    {
        public void Report(HubProgress value) => report(value);
    }
}
