using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Wav2Vec2.Tests.IO;

/// <summary>
/// An HTTP server on 127.0.0.1 speaking the Hugging Face hub's URL scheme, as far as model downloads use it:
/// HEAD/GET <c>/{repo}/resolve/{revision}/{file}</c> with X-Repo-Commit and ETag (git blob sha1), large files
/// redirected to an absolute "CDN" address with X-Linked-Etag (sha256) and X-Linked-Size, Range requests,
/// <c>/api/models/{repo}/revision/{revision}</c>, and the hub's error headers. Faults are switched on per test.
/// </summary>
internal sealed class FakeHub : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _cdn = new(StringComparer.Ordinal);
    private readonly Thread _thread;

    public FakeHub()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _thread = new Thread(Serve) { IsBackground = true };
        _thread.Start();
    }

    public string Endpoint { get; }

    /// <summary>Every request as "METHOD path [range]".</summary>
    public List<string> Requests { get; } = [];

    /// <summary>A token the repos demand (401 GatedRepo without it).</summary>
    public string? RequiredToken { get; set; }

    /// <summary>CDN downloads send only this many bytes, then drop the connection.</summary>
    public long? CutAfter { get; set; }

    /// <summary>The CDN answers a Range request with the whole file (200).</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>Serves <paramref name="files"/> (path in repo to content) as <paramref name="repo"/> at a fixed commit.</summary>
    public string AddRepo(string repo, IReadOnlyDictionary<string, byte[]> files)
    {
        string commit = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(repo)));
        _repos[repo] = new Repo(commit, files);
        foreach (byte[] content in files.Values)
            _cdn[Sha256(content)] = content;
        return commit;
    }

    /// <summary>The files of a model directory on disk, with <paramref name="extra"/> beside them.</summary>
    public static Dictionary<string, byte[]> FilesOf(string directory, params (string Path, byte[] Content)[] extra)
    {
        var files = Directory.GetFiles(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(directory, f).Replace('\\', '/'), File.ReadAllBytes);
        foreach (var (path, content) in extra)
            files[path] = content;
        return files;
    }

    public static bool IsLarge(string file) => file.EndsWith(".safetensors", StringComparison.Ordinal) || file.EndsWith(".bin", StringComparison.Ordinal)
        || file.EndsWith(".arpa", StringComparison.Ordinal);

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    public static string GitBlobSha1(byte[] content) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));

    public void Dispose()
    {
        if (!_listener.IsListening)
            return;
        _listener.Close();
        _thread.Join();
    }

    private void Serve()
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = _listener.GetContext();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                Handle(context.Request, context.Response);
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                // the client went away
            }
        }
    }

    private void Handle(HttpListenerRequest request, HttpListenerResponse response)
    {
        string path = request.Url!.AbsolutePath;
        lock (Requests)
            Requests.Add($"{request.HttpMethod} {path} {request.Headers["Range"]}".TrimEnd());
        string[] parts = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        if (parts[0] == "cdn")
            SendContent(request, response, _cdn[parts[1]]);
        else if (parts[0] == "api")   // api/models/org/name/revision/rev
            SendListing(response, $"{parts[2]}/{parts[3]}");
        else if (parts.Length >= 5 && parts[2] == "resolve")   // org/name/resolve/rev/file...
            SendFile(request, response, $"{parts[0]}/{parts[1]}", string.Join('/', parts[4..]));
        else
            End(response, 400);
    }

    private bool Refused(HttpListenerRequest request, HttpListenerResponse response, string repo)
    {
        if (!_repos.ContainsKey(repo))
        {
            response.Headers["X-Error-Code"] = "RepoNotFound";
            End(response, 404);
            return true;
        }
        if (RequiredToken != null && request.Headers["Authorization"] != $"Bearer {RequiredToken}")
        {
            response.Headers["X-Error-Code"] = "GatedRepo";
            response.Headers["X-Error-Message"] = $"Access to model {repo} is restricted.";
            End(response, 401);
            return true;
        }
        return false;
    }

    private void SendFile(HttpListenerRequest request, HttpListenerResponse response, string repo, string file)
    {
        if (Refused(request, response, repo))
            return;
        Repo r = _repos[repo];
        response.Headers["X-Repo-Commit"] = r.Commit;
        if (!r.Files.TryGetValue(file, out byte[]? content))
        {
            response.Headers["X-Error-Code"] = "EntryNotFound";
            End(response, 404);
            return;
        }
        if (IsLarge(file))
        {
            // LFS: the hub redirects to its CDN and names the blob by sha256.
            response.Headers["X-Linked-Etag"] = $"\"{Sha256(content)}\"";
            response.Headers["X-Linked-Size"] = content.Length.ToString();
            response.RedirectLocation = $"{Endpoint}/cdn/{Sha256(content)}";
            End(response, 302);
            return;
        }
        response.Headers["ETag"] = $"W/\"{GitBlobSha1(content)}\"";
        SendContent(request, response, content);
    }

    private void SendListing(HttpListenerResponse response, string repo)
    {
        if (!_repos.TryGetValue(repo, out Repo? r))
        {
            End(response, 404);
            return;
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new { sha = r.Commit, siblings = r.Files.Keys.Select(f => new { rfilename = f }) });
        response.ContentLength64 = json.Length;
        response.OutputStream.Write(json);
        response.Close();
    }

    private void SendContent(HttpListenerRequest request, HttpListenerResponse response, byte[] content)
    {
        long start = 0;
        string? range = request.Headers["Range"];
        if (range != null && !IgnoreRange)
        {
            start = long.Parse(range["bytes=".Length..].TrimEnd('-'));
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{content.Length - 1}/{content.Length}";
        }
        response.ContentLength64 = content.Length - start;
        if (request.HttpMethod == "HEAD")
        {
            response.Close();
            return;
        }
        long end = CutAfter is long cut && request.Url!.AbsolutePath.StartsWith("/cdn/", StringComparison.Ordinal) ? Math.Min(content.Length, start + cut) : content.Length;
        response.OutputStream.Write(content, (int)start, (int)(end - start));
        if (end < content.Length)
            response.Abort();   // the connection drops mid-file
        else
            response.Close();
    }

    private static void End(HttpListenerResponse response, int status)
    {
        response.StatusCode = status;
        response.ContentLength64 = 0;
        response.Close();
    }

    private sealed record Repo(string Commit, IReadOnlyDictionary<string, byte[]> Files);
}
