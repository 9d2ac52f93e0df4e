namespace Wav2Vec2.IO;

/// <summary>
/// Where <see cref="ModelHub"/> looks for and fetches models. A new instance takes its defaults from the environment
/// exactly as Python's huggingface_hub does, so both share one cache: <c>HF_HUB_CACHE</c>, else <c>HF_HOME/hub</c>,
/// else <c>$XDG_CACHE_HOME/huggingface/hub</c>, else <c>~/.cache/huggingface/hub</c>; <c>HF_ENDPOINT</c>;
/// <c>HF_TOKEN</c>, else <c>HUGGING_FACE_HUB_TOKEN</c>, else the token file <c>HF_HOME/token</c> (what
/// <c>hf auth login</c> writes); <c>HF_HUB_OFFLINE</c> or <c>TRANSFORMERS_OFFLINE</c> (1, ON, YES or TRUE).
/// </summary>
/// <example><code>
/// string directory = ModelHub.Resolve("facebook/wav2vec2-base-960h", new HubOptions { Revision = "v2.0", Offline = true });
/// </code></example>
public sealed record HubOptions
{
    /// <summary>Options from the process environment.</summary>
    public HubOptions() : this(Environment.GetEnvironmentVariable)
    {
    }

    /// <summary>Options from <paramref name="variable"/> (the environment, or a stand-in for tests).</summary>
    internal HubOptions(Func<string, string?> variable)
    {
        string? Get(string name) => variable(name) is { Length: > 0 } value ? value : null;
        string home = ExpandHome(Get("HF_HOME")
            ?? Path.Combine(ExpandHome(Get("XDG_CACHE_HOME") ?? Path.Combine("~", ".cache")), "huggingface"));
        CacheDirectory = ExpandHome(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(home, "hub"));
        Endpoint = (Get("HF_ENDPOINT") ?? "https://huggingface.co").TrimEnd('/');
        Token = CleanToken(Get("HF_TOKEN")) ?? CleanToken(Get("HUGGING_FACE_HUB_TOKEN"))
            ?? ReadTokenFile(ExpandHome(Get("HF_TOKEN_PATH") ?? Path.Combine(home, "token")));
        Offline = IsTrue(Get("HF_HUB_OFFLINE")) || IsTrue(Get("TRANSFORMERS_OFFLINE"));
    }

    /// <summary>The hub cache (Python's <c>HF_HUB_CACHE</c>): one <c>models--org--name</c> folder per repo.</summary>
    public string CacheDirectory { get; init; }

    /// <summary>The hub's address (default https://huggingface.co, or a mirror).</summary>
    public string Endpoint { get; init; }

    /// <summary>Access token for private and gated repos (null: anonymous).</summary>
    public string? Token { get; init; }

    /// <summary>Branch, tag or 40-hex commit to fetch (default "main").</summary>
    public string Revision { get; init; } = "main";

    /// <summary>Never touch the network: use the cache or fail.</summary>
    public bool Offline { get; init; }

    /// <summary>Also fetch a <c>*ProcessorWithLM</c> repo's alphabet.json and language_model folder (n-gram language
    /// models are often hundreds of megabytes, so only on request).</summary>
    public bool IncludeLanguageModel { get; init; }

    // Python: value.upper() in {"1", "ON", "YES", "TRUE"}.
    private static bool IsTrue(string? value) =>
        value != null && value.ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    // Python's cleaning: carriage returns and line feeds removed, whitespace stripped, empty means none.
    private static string? CleanToken(string? token) =>
        token?.Replace("\r", "").Replace("\n", "").Trim() is { Length: > 0 } clean ? clean : null;

    private static string? ReadTokenFile(string path)
    {
        try
        {
            return File.Exists(path) ? CleanToken(File.ReadAllText(path)) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;   // an unreadable token file is no token, as in Python
        }
    }

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + path[1..]
            : path;
}
