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
    /// <summary>Calls <paramref name="write"/> on a temporary file next to <paramref name="path"/>, then renames it over
    /// <paramref name="path"/>; on failure the temporary file is deleted and the exception passes on.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = System.IO.Path.GetFullPath(path);
        string temporary = full + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
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
}
