using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Wav2Vec2.IO;

/// <summary>What a HEAD on a file of the hub says: its commit and, when the file exists, its blob name, size and
/// where to download it.</summary>
internal sealed record HubEntry(string Commit, string? Etag, long Size, Uri? Location);

/// <summary>The hub could not be reached at all (refused, unknown host, timed out): the cache may still serve.</summary>
internal sealed class HubUnreachableException(string message) : Exception(message);

/// <summary>
/// The hub's HTTP protocol as huggingface_hub speaks it: HEAD <c>{endpoint}/{repo}/resolve/{revision}/{file}</c>
/// (relative redirects followed, an absolute one is the download address), GET resumed with <c>Range</c>, errors
/// told apart by <c>X-Error-Code</c>.
/// </summary>
internal sealed class HubClient(HubOptions options, string repoId, CancellationToken cancellationToken)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);   // huggingface_hub's ETag and download timeouts

    // HEAD must see redirects; GET may follow a CDN's own (and .NET drops the authorization header when it does).
    private static readonly HttpClient Metadata = Client(followRedirects: false);
    private static readonly HttpClient Content = Client(followRedirects: true);

    /// <summary>HEADs <paramref name="file"/> at <paramref name="revision"/>; an entry without etag when it does not exist.</summary>
    public HubEntry Head(string revision, string file)
    {
        var url = new Uri($"{options.Endpoint}/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{EscapePath(file)}");
        for (int redirects = 0; ; redirects++)
        {
            using HttpResponseMessage response = Send(Metadata, HttpMethod.Head, url, file);
            int status = (int)response.StatusCode;
            Uri? location = response.Headers.Location;
            if (status is >= 300 and < 400 && location != null && !location.IsAbsoluteUri && redirects < 10)
            {
                url = new Uri(url, location);   // a renamed repo: HEAD again at the new path
                continue;
            }
            string? commit = Header(response, "X-Repo-Commit");
            if (Header(response, "X-Error-Code") == "EntryNotFound" && commit != null)
                return new HubEntry(CheckedCommit(commit, file), null, 0, null);
            if (status >= 400)
                throw Failure(response, file);
            if (commit == null)
                throw new HubException(repoId, $"{options.Endpoint} answered for {repoId}/{file} without X-Repo-Commit: " +
                    "not the Hugging Face hub, or a proxy in the way");
            string etag = NormalizeEtag(Header(response, "X-Linked-Etag") ?? Header(response, "ETag"), file);
            long? size = long.TryParse(Header(response, "X-Linked-Size"), out long linked) ? linked
                : status < 300 ? response.Content.Headers.ContentLength : null;
            if (size is not long bytes)
                throw new HubException(repoId, $"{options.Endpoint} gave no size for {repoId}/{file}");
            return new HubEntry(CheckedCommit(commit, file), etag, bytes, location ?? url);
        }
    }

    /// <summary>The files of the repo at <paramref name="revision"/> (<c>GET /api/models/{repo}/revision/{revision}</c>).</summary>
    public IReadOnlyList<string> ListFiles(string revision)
    {
        var url = new Uri($"{options.Endpoint}/api/models/{repoId}/revision/{Uri.EscapeDataString(revision)}");
        using HttpResponseMessage response = Send(Content, HttpMethod.Get, url, null);
        if (!response.IsSuccessStatusCode)
            throw Failure(response, null);
        try
        {
            using JsonDocument json = JsonDocument.Parse(response.Content.ReadAsStream(cancellationToken));
            return json.RootElement.GetProperty("siblings").EnumerateArray()
                .Select(s => s.GetProperty("rfilename").GetString()!).ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new HubException(repoId, $"{options.Endpoint}: the file list of {repoId} is not valid ({e.Message})");
        }
    }

    /// <summary>
    /// Downloads <paramref name="entry"/> into <paramref name="partial"/>, resuming what an interrupted run left there
    /// (restarting from zero when the server ignores the range). Fails with the partial file kept when the size is wrong.
    /// </summary>
    public void Download(HubEntry entry, string file, string partial, IProgress<HubProgress>? progress)
    {
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (have > entry.Size)
            have = 0;   // not a prefix of this blob: start again
        if (have < entry.Size)
            have = Fetch(entry, file, partial, have, progress);
        if (have != entry.Size)
            throw new HubException(repoId, $"{repoId}/{file}: the download stopped at {have:N0} of {entry.Size:N0} bytes " +
                "(the partial file is kept; running again resumes it)");
    }

    private long Fetch(HubEntry entry, string file, string partial, long have, IProgress<HubProgress>? progress)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var request = Request(HttpMethod.Get, entry.Location!);
        if (have > 0)
            request.Headers.Range = new RangeHeaderValue(have, null);
        using HttpResponseMessage response = Send(Content, request, idle, file);
        if (!response.IsSuccessStatusCode)
            throw Failure(response, file);
        bool append = have > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        have = append ? have : 0;
        using var output = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write);
        using Stream body = response.Content.ReadAsStream(idle.Token);
        var buffer = new byte[1 << 20];
        progress?.Report(new HubProgress(repoId, file, have, entry.Size));
        while (have < entry.Size)
        {
            idle.CancelAfter(Timeout);
            int read;
            try
            {
                read = body.ReadAsync(buffer, idle.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException
                                      && !cancellationToken.IsCancellationRequested)
            {
                break;   // the connection broke or stalled: the size check says so
            }
            if (read == 0)
                break;
            output.Write(buffer, 0, read);
            have += read;
            progress?.Report(new HubProgress(repoId, file, have, entry.Size));
        }
        cancellationToken.ThrowIfCancellationRequested();
        output.Flush(flushToDisk: true);
        return output.Length;
    }

    private HttpResponseMessage Send(HttpClient client, HttpMethod method, Uri url, string? file)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var request = Request(method, url);
        return Send(client, request, timeout, file);
    }

    // Waits at most Timeout for the answer's headers; failing to connect is "unreachable", which the cache may cover.
    private HttpResponseMessage Send(HttpClient client, HttpRequestMessage request, CancellationTokenSource timeout, string? file)
    {
        timeout.CancelAfter(Timeout);
        try
        {
            return client.Send(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (HttpRequestException e) when (e.StatusCode == null)
        {
            throw new HubUnreachableException(OneLine(e.InnerException?.Message ?? e.Message));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HubUnreachableException($"no answer within {Timeout.TotalSeconds:0} s for {file ?? "the file list"}");
        }
    }

    private HttpRequestMessage Request(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        // The token goes to the hub only, never to a CDN the download was sent to.
        if (options.Token != null && Uri.TryCreate(options.Endpoint, UriKind.Absolute, out Uri? hub)
            && string.Equals(hub.Authority, url.Authority, StringComparison.OrdinalIgnoreCase))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        return request;
    }

    private HubException Failure(HttpResponseMessage response, string? file)
    {
        string where = file == null ? repoId : $"{repoId}/{file}";
        string? code = Header(response, "X-Error-Code"), message = Header(response, "X-Error-Message");
        int status = (int)response.StatusCode;
        string text = code switch
        {
            "RevisionNotFound" => $"{repoId} has no revision '{options.Revision}' on {options.Endpoint}",
            "GatedRepo" => $"{repoId} is gated: accept its conditions on its hub page and set HF_TOKEN to a token of that account",
            "EntryNotFound" => $"{where} does not exist on {options.Endpoint}",
            _ when status == 401 && message == "Invalid credentials in Authorization header" =>
                $"{options.Endpoint} refused the token for {repoId} (invalid credentials): check HF_TOKEN",
            _ when code == "RepoNotFound" || status is 401 or 404 => options.Token == null
                ? $"no model named {repoId} on {options.Endpoint} (if it is private or gated, set HF_TOKEN)"
                : $"no model named {repoId} on {options.Endpoint} that the token (HF_TOKEN) gives access to",
            _ when status == 403 => $"access to {where} is forbidden: set HF_TOKEN to a token with access to it",
            _ => $"{where}: HTTP {status} {response.ReasonPhrase} from {response.RequestMessage?.RequestUri?.Authority}",
        };
        return new HubException(repoId, message == null || code is "EntryNotFound" or "RepoNotFound" ? text : $"{text} ({OneLine(message)})");
    }

    private string CheckedCommit(string commit, string file) => HubCache.IsCommit(commit) ? commit
        : throw new HubException(repoId, $"{options.Endpoint} gave '{OneLine(commit)}' as the commit of {repoId}/{file}, not a commit hash");

    // Python: etag.lstrip("W/").strip('"'); the result names a file, so it must be a plain name.
    private string NormalizeEtag(string? etag, string file)
    {
        string name = (etag ?? "").TrimStart('W', '/').Trim('"');
        return name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? name
            : throw new HubException(repoId, $"{options.Endpoint} gave no usable ETag for {repoId}/{file}");
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? values.FirstOrDefault() : null;

    private static string EscapePath(string file) => string.Join('/', file.Split('/').Select(Uri.EscapeDataString));

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    private static HttpClient Client(bool followRedirects)
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = followRedirects, AutomaticDecompression = DecompressionMethods.None, ConnectTimeout = Timeout,
        }) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("wav2vec2-dotnet/1.0");
        return client;
    }
}
