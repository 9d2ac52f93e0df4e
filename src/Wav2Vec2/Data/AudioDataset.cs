using System.Globalization;
using Wav2Vec2.Audio;

namespace Wav2Vec2.Data;

/// <summary>One recording of a dataset: its path and length in samples (at its own rate).</summary>
public sealed record AudioEntry(string Path, long Samples);

/// <summary>
/// A list of recordings for pre-training: a directory scanned recursively for .wav and .flac files (which covers the
/// LibriSpeech speaker/chapter/*.flac layout), or a fairseq manifest (.tsv: the root directory on the first line, then
/// "relative/path&lt;TAB&gt;num_samples"). Files that cannot be read are skipped and listed in <see cref="Skipped"/>.
/// </summary>
public sealed class AudioDataset
{
    private AudioDataset(IReadOnlyList<AudioEntry> entries, IReadOnlyList<string> skipped)
    {
        Entries = entries;
        Skipped = skipped;
    }

    /// <summary>The usable recordings, in a stable order (sorted paths, or manifest order).</summary>
    public IReadOnlyList<AudioEntry> Entries { get; }

    /// <summary>Files that were skipped, each with the reason.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>Opens a directory or a .tsv manifest.</summary>
    public static AudioDataset Open(string source)
    {
        if (Directory.Exists(source))
            return FromDirectory(source);
        if (File.Exists(source))
            return FromManifest(source);
        throw new FileNotFoundException($"data source '{source}' is neither a directory nor a manifest file");
    }

    /// <summary>Every .wav / .flac below <paramref name="directory"/>; lengths read from the file headers.</summary>
    public static AudioDataset FromDirectory(string directory)
    {
        var entries = new List<AudioEntry>();
        var skipped = new List<string>();
        var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".wav", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".flac", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f, StringComparer.Ordinal);
        foreach (string file in files)
        {
            try
            {
                entries.Add(new AudioEntry(file, AudioFile.ReadLength(file)));
            }
            catch (InvalidDataException e)
            {
                skipped.Add(e.Message);
            }
        }
        if (entries.Count == 0)
            throw new InvalidDataException($"{directory}: no readable .wav or .flac files{(skipped.Count > 0 ? $" ({skipped.Count} skipped)" : "")}");
        return new AudioDataset(entries, skipped);
    }

    /// <summary>A fairseq manifest.</summary>
    public static AudioDataset FromManifest(string manifest)
    {
        string[] lines = File.ReadAllLines(manifest);
        if (lines.Length == 0)
            throw new InvalidDataException($"{manifest}: empty manifest (the first line must be the root directory)");
        string root = lines[0].Trim();
        if (!Path.IsPathRooted(root))
            root = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(manifest))!, root);
        var entries = new List<AudioEntry>();
        var skipped = new List<string>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
                continue;
            string[] fields = lines[i].Split('\t');
            if (fields.Length < 2 || !long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long samples) || samples <= 0)
                throw new InvalidDataException($"{manifest}:{i + 1}: expected 'relative/path<TAB>num_samples', got '{lines[i]}'");
            string path = Path.Combine(root, fields[0]);
            if (File.Exists(path))
                entries.Add(new AudioEntry(path, samples));
            else
                skipped.Add($"{path}: file not found");
        }
        if (entries.Count == 0)
            throw new InvalidDataException($"{manifest}: no existing files listed");
        return new AudioDataset(entries, skipped);
    }
}
