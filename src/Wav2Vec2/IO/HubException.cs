namespace Wav2Vec2.IO;

/// <summary>
/// A model could not be fetched from the Hugging Face hub or found in its cache: unknown repo, no access, no network,
/// an interrupted download. The message is one line naming the repo (and the file).
/// </summary>
public sealed class HubException : IOException
{
    /// <summary>An error about <paramref name="repoId"/>.</summary>
    internal HubException(string repoId, string message, Exception? inner = null) : base(message, inner) => RepoId = repoId;

    /// <summary>The repo the error is about ("org/name").</summary>
    public string RepoId { get; }
}

/// <summary>How far the download of one file of a model has come.</summary>
/// <param name="RepoId">The repo ("org/name").</param>
/// <param name="File">The file's path in the repo.</param>
/// <param name="BytesDone">Bytes on disk so far (a resumed download starts above 0).</param>
/// <param name="TotalBytes">The file's size.</param>
public sealed record HubProgress(string RepoId, string File, long BytesDone, long TotalBytes);
