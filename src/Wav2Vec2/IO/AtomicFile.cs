using System.Globalization;
using System.Text;

namespace Wav2Vec2.IO;

/// <summary>
/// Writes a file through a temporary sibling and a rename, so readers never see a partial file and a failed write
/// leaves none behind (every output of this library and of the w2v2 command line is written this way).
/// </summary>
/// <example><code>
/// AtomicFile.WriteText("talk.srt", timed.ToSrt());
/// </code></example>
public static class AtomicFile
{
    private const string TemporaryMarker = ".tmp-";

    /// <summary>Calls <paramref name="write"/> on a temporary file next to <paramref name="path"/>, then renames it over
    /// <paramref name="path"/>; on failure the temporary file is deleted and the exception passes on. Temporary files
    /// that a killed process left beside <paramref name="path"/> are removed first.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = System.IO.Path.GetFullPath(path);
        RemoveStaleTemporaries(full);
        string temporary = TemporaryName(full) + $"-{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) atomically.</summary>
    public static void WriteText(string path, string text) =>
        Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// The temporary sibling this process writes <paramref name="target"/> through: "target.tmp-PID" (files add a
    /// unique suffix). The process id in the name is what lets a later run tell a dead writer's leftovers from a live one's.
    /// </summary>
    internal static string TemporaryName(string target) => target + TemporaryMarker + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Deletes the temporary files and directories beside <paramref name="target"/> ("target.tmp-PID...") whose
    /// process is gone: what a kill -9, a power cut or a crash left behind. A live process's (this one's included) stay.
    /// </summary>
    internal static void RemoveStaleTemporaries(string target)
    {
        string? folder = System.IO.Path.GetDirectoryName(target);
        string prefix = System.IO.Path.GetFileName(target) + TemporaryMarker;
        if (folder == null || !Directory.Exists(folder))
            return;
        foreach (string entry in Directory.EnumerateFileSystemEntries(folder, prefix + "*"))
        {
            string rest = System.IO.Path.GetFileName(entry)[prefix.Length..];
            int end = rest.IndexOf('-');
            if (!int.TryParse(end < 0 ? rest : rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || IsRunning(pid))
                continue;
            try
            {
                if (Directory.Exists(entry))
                    Directory.Delete(entry, recursive: true);
                else
                    File.Delete(entry);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another run cleaning up at the same time, or a read-only leftover: not this write's business.
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
            return true;
        // Linux: a killed process stays a zombie until its parent reaps it (a container's init may never do so).
        string stat = $"/proc/{pid}/stat";
        if (OperatingSystem.IsLinux() && Directory.Exists("/proc/self"))
        {
            try
            {
                string text = File.ReadAllText(stat);
                int close = text.LastIndexOf(')');
                return close + 2 < text.Length && text[close + 2] is not ('Z' or 'X');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;   // no such process
            }
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
