namespace Wav2Vec2.IO;

/// <summary>
/// One fetch of a model into the hub cache: the first HEAD fixes the commit (written to refs/), every later file is
/// asked for at that commit so the snapshot is consistent even if the branch moves meanwhile.
/// </summary>
internal sealed class HubDownload(string repo, HubOptions options, HubCache cache, IProgress<HubProgress>? progress,
    CancellationToken cancellationToken)
{
    private readonly HubClient _client = new(options, repo, cancellationToken);
    private string? _commit = HubCache.IsCommit(options.Revision) ? options.Revision : null;

    /// <summary>Fetches what is missing and returns the snapshot directory.</summary>
    public string Run()
    {
        if (!ModelHub.Walk(Get))
            throw new HubException(repo, $"{repo} has no weights (model.safetensors, model.safetensors.index.json, " +
                "pytorch_model.bin or pytorch_model.bin.index.json)");
        if (options.IncludeLanguageModel)
            FetchLanguageModel();
        return cache.Snapshot(_commit!);
    }

    private bool Get(string file, bool required, out string? path)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!ModelHub.IsSafeRepoPath(file))
            throw new HubException(repo, $"{repo}: the file name '{file}' is not a safe relative path");
        if (_commit != null && ((path = cache.Find(_commit, file)) != null || !required && cache.IsMissing(_commit, file)))
            return true;
        HubEntry entry = _client.Head(_commit ?? options.Revision, file);
        if (_commit == null)
        {
            _commit = entry.Commit;
            cache.WriteRef(options.Revision, _commit);
        }
        if (entry.Etag == null)
        {
            cache.MarkMissing(_commit, file);
            path = required ? throw new HubException(repo, file == "config.json"
                ? $"{repo} has no config.json: not a Hugging Face model repo"
                : $"{repo}/{file} does not exist on {options.Endpoint}") : null;
            return true;
        }
        path = cache.Store(_commit, file, entry.Etag, partial => _client.Download(entry, file, partial, progress), cancellationToken);
        return true;
    }

    // A *ProcessorWithLM repo: alphabet.json and everything in language_model/ (the n-gram file's name is free, so
    // the repo's file list says what is there); absence is remembered like any optional file's.
    private void FetchLanguageModel()
    {
        IReadOnlyList<string> files = _client.ListFiles(_commit!);
        foreach (string file in files.Where(f => f == "alphabet.json" || f.StartsWith("language_model/", StringComparison.Ordinal)))
            Get(file, true, out _);
        foreach (string marker in (string[])["alphabet.json", "language_model/attrs.json"])
            if (!files.Contains(marker))
                cache.MarkMissing(_commit!, marker);
    }
}
