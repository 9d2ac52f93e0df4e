using System.Text.RegularExpressions;

namespace Wav2Vec2.IO;

/// <summary>
/// One repo's folder in the Hugging Face hub cache, laid out as Python's huggingface_hub lays it out so that both use
/// each other's downloads: <c>models--org--name/refs/&lt;revision&gt;</c> holds a commit, <c>snapshots/&lt;commit&gt;/&lt;file&gt;</c>
/// are relative symbolic links (or plain copies) to <c>blobs/&lt;etag&gt;</c>, <c>.no_exist/&lt;commit&gt;/&lt;file&gt;</c>
/// marks files known to be absent.
/// </summary>
internal sealed partial class HubCache
{
    private readonly string _folderName;

    public HubCache(string cacheDirectory, string repoId)
    {
        Root = Path.GetFullPath(cacheDirectory);
        _folderName = "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);
        RepoDirectory = Path.Combine(Root, _folderName);
    }

    /// <summary>The cache directory.</summary>
    public string Root { get; }

    /// <summary>This repo's folder.</summary>
    public string RepoDirectory { get; }

    /// <summary>Whether <paramref name="text"/> is a full commit hash (Python's REGEX_COMMIT_HASH).</summary>
    public static bool IsCommit(string text) => CommitPattern().IsMatch(text);

    /// <summary>The commit a revision names: itself when it is a commit hash, else what refs/ says (null: unknown).</summary>
    public string? Commit(string revision)
    {
        if (IsCommit(revision))
            return revision;
        string path = Path.Combine(RepoDirectory, "refs", revision);
        if (!File.Exists(path))
            return null;
        string commit = File.ReadAllText(path).Trim();
        return IsCommit(commit) ? commit : null;
    }

    /// <summary>Records that <paramref name="revision"/> is at <paramref name="commit"/> (atomically, no newline, as Python).</summary>
    public void WriteRef(string revision, string commit)
    {
        if (revision == commit)
            return;
        string path = Path.Combine(RepoDirectory, "refs", revision);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteText(path, commit);
    }

    public string Snapshot(string commit) => Path.Combine(RepoDirectory, "snapshots", commit);

    /// <summary>The snapshot's copy of <paramref name="file"/>, or null when it has none (or a dangling link).</summary>
    public string? Find(string commit, string file)
    {
        string path = Path.Combine(Snapshot(commit), file);
        return IsFile(new FileInfo(path)) ? path : null;
    }

    // File.Exists is true for a link whose blob is gone; such an entry is not there.
    private static bool IsFile(FileInfo info) =>
        info.Exists && (info.LinkTarget == null || info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true });

    public bool IsMissing(string commit, string file) => File.Exists(Path.Combine(RepoDirectory, ".no_exist", commit, file));

    public void MarkMissing(string commit, string file)
    {
        string path = Path.Combine(RepoDirectory, ".no_exist", commit, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Create(path).Dispose();
    }

    /// <summary>
    /// Makes <paramref name="file"/> of the snapshot point at blob <paramref name="etag"/>, calling
    /// <paramref name="download"/> with a <c>.incomplete</c> path first when the blob is not cached; the blob appears
    /// only once complete (a rename), and the snapshot entry only after it.
    /// </summary>
    public string Store(string commit, string file, string etag, Action<string> download, CancellationToken cancellationToken)
    {
        string blob = Path.Combine(RepoDirectory, "blobs", etag);
        if (!File.Exists(blob))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            WriteTag();
            using FileStream held = Lock(etag, cancellationToken);
            if (!File.Exists(blob))
            {
                string partial = blob + ".incomplete";
                download(partial);
                File.Move(partial, blob);
            }
        }
        return Link(commit, file, blob);
    }

    private string Link(string commit, string file, string blob)
    {
        string pointer = Path.Combine(Snapshot(commit), file);
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        var existing = new FileInfo(pointer);
        if (IsFile(existing))
            return pointer;
        if (existing.Exists)
            existing.Delete();   // a dangling link from a cleaned-up blob
        try
        {
            File.CreateSymbolicLink(pointer, Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob));
        }
        catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && !File.Exists(pointer))
        {
            // No symbolic links here (Windows without developer mode): a plain copy, as Python does.
            AtomicFile.Write(pointer, output =>
            {
                using FileStream input = File.OpenRead(blob);
                input.CopyTo(output);
            });
        }
        return pointer;
    }

    // One writer per blob across processes: FileShare.None takes the same flock that Python's filelock takes.
    private FileStream Lock(string etag, CancellationToken cancellationToken)
    {
        string path = Path.Combine(Root, ".locks", _folderName, etag + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                cancellationToken.WaitHandle.WaitOne(200);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    // The Cache Directory Tagging Standard's tag, which backup tools honour; written once, as Python does.
    private void WriteTag()
    {
        string path = Path.Combine(Root, "CACHEDIR.TAG");
        if (!File.Exists(path))
            AtomicFile.WriteText(path, "Signature: 8a477f597d28d172789f06886806bc55\n" +
                "# This file is a cache directory tag created by huggingface_hub.\n" +
                "# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/\n");
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitPattern();
}
