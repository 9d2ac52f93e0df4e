using System.Text.RegularExpressions;

namespace Wav2Vec2.IO;

/// <summary>
/// Models by name: turns a Hugging Face repo id ("facebook/wav2vec2-base-960h") into a local directory through the
/// hub cache that Python's huggingface_hub and transformers use (a model either of them fetched is used as is, and
/// what this fetches they find), downloading only the files a wav2vec 2.0 model needs. Every FromPretrained of this
/// library goes through it with <see cref="HubOptions"/>' defaults from the environment.
/// </summary>
/// <remarks>
/// Order: an existing directory of that name; else the cached snapshot of the revision when it holds every needed
/// file (no network); else a download over HTTPS (a network failure falls back to an incomplete but loadable cached
/// snapshot). A cached branch is not re-checked for newer commits: pass a <see cref="HubOptions.Revision"/> or delete
/// the repo's cache folder to update it.
/// </remarks>
/// <example><code>
/// string directory = ModelHub.Resolve("facebook/wav2vec2-base-960h", progress: new Progress&lt;HubProgress&gt;(p =&gt; Console.Write($"\r{p.File} {p.BytesDone}/{p.TotalBytes}")));
/// var recognizer = SpeechRecognizer.FromPretrained(directory);
/// </code></example>
public static partial class ModelHub
{
    // Beside config.json and the weights; each may be absent (a backbone has no vocabulary).
    private static readonly string[] OptionalFiles =
        ["preprocessor_config.json", "vocab.json", "tokenizer_config.json", "special_tokens_map.json"];

    /// <summary>
    /// The local directory holding the model <paramref name="nameOrDirectory"/> names: the directory itself when it
    /// exists, else the cache's snapshot of that Hugging Face repo, fetched first when needed.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">Neither an existing directory nor a repo id.</exception>
    /// <exception cref="HubException">Unknown repo, no access, no network and not cached, offline and not cached, an
    /// interrupted download (one line naming the repo and file).</exception>
    /// <exception cref="OperationCanceledException">Cancelled (a partial download stays as <c>.incomplete</c> and resumes).</exception>
    public static string Resolve(string nameOrDirectory, HubOptions? options = null, IProgress<HubProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrDirectory);
        if (Directory.Exists(nameOrDirectory))
            return nameOrDirectory;
        if (!IsRepoId(nameOrDirectory))
            throw new DirectoryNotFoundException($"model directory '{nameOrDirectory}' does not exist, and it is not a " +
                "Hugging Face repo id such as 'facebook/wav2vec2-base-960h'");
        options ??= new HubOptions();
        string repo = nameOrDirectory;
        var cache = new HubCache(options.CacheDirectory, repo);
        string? commit = cache.Commit(options.Revision);
        if (commit != null && Walk(StrictLookup(cache, commit)) && HasLanguageModel(cache, commit, options.IncludeLanguageModel))
            return cache.Snapshot(commit);
        bool loadable = commit != null && Walk(LenientLookup(cache, commit));
        if (options.Offline)
            return loadable ? cache.Snapshot(commit!) : throw new HubException(repo,
                $"{repo} is not in the cache at {cache.RepoDirectory}, and offline mode (HF_HUB_OFFLINE) allows no download");
        try
        {
            return new HubDownload(repo, options, cache, progress, cancellationToken).Run();
        }
        catch (HubUnreachableException) when (loadable)
        {
            return cache.Snapshot(commit!);
        }
        catch (HubUnreachableException e)
        {
            throw new HubException(repo, $"cannot reach {options.Endpoint} ({e.Message}), and {repo} is not in the cache at {cache.RepoDirectory}");
        }
    }

    /// <summary>Whether <paramref name="name"/> has the form of a Hugging Face repo id: "name" or "org/name" of
    /// letters, digits, '-', '_' and '.', starting and ending with a letter, digit or '_', without "--" or "..".</summary>
    public static bool IsRepoId(string name) =>
        RepoIdPattern().IsMatch(name) && !name.Contains("--", StringComparison.Ordinal) && !name.Contains("..", StringComparison.Ordinal);

    /// <summary>Whether a file name from the hub may be used as a relative path: no rooted path, no "..", no backslash.</summary>
    internal static bool IsSafeRepoPath(string file) =>
        file.Length > 0 && !Path.IsPathRooted(file) && !file.Contains('\\') && file.Split('/').All(part => part is not ("" or "." or ".."));

    /// <summary>Finds a file of the model: false when it is not known whether it exists; else its path, or null when absent.</summary>
    internal delegate bool Lookup(string file, bool required, out string? path);

    /// <summary>
    /// Goes through the files a model needs (config.json, the optional tokenizer and preprocessor files, the first
    /// weights in <see cref="CheckpointLoader.WeightFiles"/>' order, with its shards), asking <paramref name="get"/>
    /// for each; false when a lookup does not know, or when there are no weights.
    /// </summary>
    internal static bool Walk(Lookup get)
    {
        if (!get("config.json", true, out string? config) || config == null)
            return false;
        foreach (string file in OptionalFiles)
            if (!get(file, false, out _))
                return false;
        foreach (var (file, sharded) in CheckpointLoader.WeightFiles)
        {
            if (!get(file, false, out string? weights))
                return false;
            if (weights != null)
                return !sharded || CheckpointLoader.ShardFiles(weights).All(shard => get(shard, true, out string? path) && path != null);
        }
        return false;
    }

    // Complete: every file is cached or known absent.
    private static Lookup StrictLookup(HubCache cache, string commit) => (string file, bool required, out string? path) =>
        (path = cache.Find(commit, file)) != null || !required && cache.IsMissing(commit, file);

    // Loadable: config.json and weights are cached; whatever else is missing is taken as absent.
    private static Lookup LenientLookup(HubCache cache, string commit) => (string file, bool required, out string? path) =>
        (path = cache.Find(commit, file)) != null || !required;

    // A language model is known when asked for: the folder is cached, or known to be absent at this commit.
    private static bool HasLanguageModel(HubCache cache, string commit, bool wanted) => !wanted
        || (cache.Find(commit, "alphabet.json") != null || cache.IsMissing(commit, "alphabet.json"))
        && (cache.Find(commit, "language_model/attrs.json") != null || cache.IsMissing(commit, "language_model/attrs.json"));

    [GeneratedRegex(@"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?/)?[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$")]
    private static partial Regex RepoIdPattern();
}
