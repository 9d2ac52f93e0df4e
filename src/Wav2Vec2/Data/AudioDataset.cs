using System.Globalization;
using Wav2Vec2.Audio;

namespace Wav2Vec2.Data;

/// <summary>One recording of a dataset: its path, its length in samples at its own rate, and, for labeled data, its
/// transcript as given (not normalised) or its class. A recording held in memory (<see cref="InMemory"/>) carries its
/// clip, and its path only names it in messages.</summary>
/// <param name="Path">The audio file (for an in-memory clip: its name).</param>
/// <param name="Samples">Length in samples at <paramref name="SampleRate"/>.</param>
/// <param name="Transcript">The transcript, or null for unlabeled audio.</param>
/// <param name="SampleRate">The file's rate (fairseq manifests record 16 kHz sample counts).</param>
/// <example><code>
/// var entry = AudioEntry.InMemory("clip 3", new AudioClip(samples, 16000), transcript: "HELLO");
/// AudioClip audio = entry.Read();   // the clip itself; a file entry decodes its file
/// </code></example>
public sealed record AudioEntry(string Path, long Samples, string? Transcript = null, int SampleRate = 16000)
{
    /// <summary>Duration in seconds.</summary>
    public double Seconds => (double)Samples / SampleRate;

    /// <summary>The recording itself when it is held in memory; null when it is read from <see cref="Path"/>.</summary>
    public AudioClip? Clip { get; init; }

    /// <summary>The recording's class (audio classification: a name the model's config lists in id2label), or null.</summary>
    public string? Label { get; init; }

    /// <summary>An entry for a clip held in memory, named <paramref name="name"/> in messages and results.</summary>
    /// <example><code>
    /// var entry = AudioEntry.InMemory("row 0", clip) with { Label = "yes" };
    /// </code></example>
    public static AudioEntry InMemory(string name, AudioClip clip, string? transcript = null) =>
        new(name, clip.Samples.Length, transcript, clip.SampleRate) { Clip = clip };

    /// <summary>The recording at its own rate: <see cref="Clip"/>, or the decoded file.</summary>
    /// <exception cref="InvalidDataException">The file cannot be read (the message starts with the path).</exception>
    public AudioClip Read() => Clip ?? AudioFile.Read(Path);
}

/// <summary>How far the reading of a dataset's file headers has got.</summary>
/// <param name="Done">Files read.</param>
/// <param name="Total">Files listed.</param>
public readonly record struct DatasetScanProgress(int Done, int Total);

/// <summary>
/// A list of recordings. Unlabeled (pre-training, <see cref="Open"/>): a directory scanned recursively for .wav and
/// .flac files (which covers the LibriSpeech speaker/chapter/*.flac layout), or a fairseq manifest (.tsv: the root
/// directory on the first line, then "relative/path&lt;TAB&gt;num_samples"). Labeled (fine-tuning and evaluation,
/// <see cref="OpenTranscribed"/>): a LibriSpeech tree with *.trans.txt files, a fairseq manifest with a .wrd or .ltr
/// label file beside it, or a TSV of "path&lt;TAB&gt;transcript" lines. Files that cannot be read are skipped and listed
/// in <see cref="Skipped"/>.
/// </summary>
public sealed class AudioDataset
{
    internal AudioDataset(IReadOnlyList<AudioEntry> entries, IReadOnlyList<string> skipped)
    {
        Entries = entries;
        Skipped = skipped;
    }

    private static readonly HashSet<string> AudioExtensions = new([".wav", ".flac", ".mp3", ".ogg", ".opus", ".aif", ".aiff"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The usable recordings, in a stable order (sorted paths, or manifest order).</summary>
    public IReadOnlyList<AudioEntry> Entries { get; }

    /// <summary>Files that were skipped, each with the reason.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>
    /// Opens a directory of audio files, a fairseq .tsv manifest, or the clips a Common Voice TSV or an audio folder's
    /// metadata.csv lists (their transcripts come along, unused by pre-training).
    /// </summary>
    /// <param name="source">The directory, manifest, Common Voice TSV or metadata.csv.</param>
    /// <param name="progress">Reports the reading of file headers (lengths), which takes a while for large corpora.</param>
    public static AudioDataset Open(string source, IProgress<DatasetScanProgress>? progress = null)
    {
        if (Directory.Exists(source))
            return FromDirectory(source, progress);
        if (File.Exists(source))
            return TranscriptSources.IsLabeledList(source) ? TranscriptSources.Open(source, progress) : FromManifest(source);
        throw new FileNotFoundException($"data source '{source}' is neither a directory nor a manifest file");
    }

    /// <summary>
    /// Opens labeled data: a Common Voice TSV (a header row with path and sentence columns; clips in clips/ beside it),
    /// a Hugging Face audio folder (a directory with metadata.csv, or the CSV itself: file_name and the first of
    /// transcription, sentence, text), a directory in the LibriSpeech layout (speaker/chapter/ID.flac with
    /// speaker-chapter.trans.txt lines "ID TRANSCRIPT"), a fairseq manifest (.tsv) with train.wrd (words) or train.ltr
    /// (letters separated by spaces, "|" between words) beside it, or a TSV of "relative/path&lt;TAB&gt;transcript" lines
    /// (no header; paths relative to the TSV's folder). Every entry has a <see cref="AudioEntry.Transcript"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">No transcripts, a malformed line (named with its file and line number),
    /// label and manifest line counts that differ, or nothing usable.</exception>
    /// <param name="source">The TSV, directory, manifest or metadata.csv.</param>
    /// <param name="progress">Reports the reading of file headers (lengths), which takes a while for large corpora.</param>
    public static AudioDataset OpenTranscribed(string source, IProgress<DatasetScanProgress>? progress = null) =>
        TranscriptSources.Open(source, progress);

    /// <summary>
    /// A dataset of the given entries, in order: files, in-memory clips (<see cref="AudioEntry.InMemory"/>) or both, as
    /// read from any other source (a database, an ML.NET IDataView); <paramref name="skipped"/> lists what the caller
    /// left out, for the trainers to report.
    /// </summary>
    /// <example><code>
    /// var data = AudioDataset.FromEntries(clips.Select((c, i) => AudioEntry.InMemory($"clip {i}", c)).ToList());
    /// </code></example>
    /// <exception cref="ArgumentException">No entries.</exception>
    public static AudioDataset FromEntries(IReadOnlyList<AudioEntry> entries, IReadOnlyList<string>? skipped = null) =>
        entries.Count > 0 ? new AudioDataset(entries, skipped ?? []) : throw new ArgumentException("a dataset needs at least one recording", nameof(entries));

    /// <summary>The entries for which <paramref name="keep"/> holds (the others are reported by the caller).</summary>
    public AudioDataset Where(Func<AudioEntry, bool> keep) => new(Entries.Where(keep).ToList(), Skipped);

    /// <summary>Total duration of the entries in seconds.</summary>
    public double TotalSeconds => Entries.Sum(e => e.Seconds);

    /// <summary>
    /// Every audio file below <paramref name="directory"/> (.wav, .flac, .mp3, .ogg, .opus, .aif, .aiff); lengths read
    /// from the file headers.
    /// </summary>
    public static AudioDataset FromDirectory(string directory, IProgress<DatasetScanProgress>? progress = null)
    {
        string[] files = [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => AudioExtensions.Contains(Path.GetExtension(f)))
            .OrderBy(f => f, StringComparer.Ordinal)];
        return Scan([.. files.Select(f => (f, (string?)null))], progress, skipped =>
            $"{directory}: no readable audio files ({string.Join(" ", AudioExtensions)}){(skipped.Count > 0 ? $" ({skipped.Count} skipped)" : "")}");
    }

    /// <summary>
    /// Entries for <paramref name="files"/> with lengths from their headers; a file that is missing or unreadable is
    /// skipped with its reason; <paramref name="nothingUsable"/> words the error when no file is left.
    /// </summary>
    internal static AudioDataset Scan(IReadOnlyList<(string Path, string? Transcript)> files, IProgress<DatasetScanProgress>? progress,
        Func<IReadOnlyList<string>, string> nothingUsable)
    {
        var entries = new List<AudioEntry>();
        var skipped = new List<string>();
        for (int i = 0; i < files.Count; i++)
        {
            var (path, transcript) = files[i];
            if (i % 64 == 0)
                progress?.Report(new DatasetScanProgress(i, files.Count));
            if (!File.Exists(path))
            {
                skipped.Add($"{path}: file not found");
                continue;
            }
            try
            {
                (int rate, long samples) = AudioFile.ReadInfo(path);
                entries.Add(new AudioEntry(path, samples, transcript, rate));
            }
            catch (InvalidDataException e)
            {
                skipped.Add(e.Message);
            }
        }
        progress?.Report(new DatasetScanProgress(files.Count, files.Count));
        if (entries.Count == 0)
            throw new InvalidDataException(nothingUsable(skipped));
        return new AudioDataset(entries, skipped);
    }

    /// <summary>A fairseq manifest.</summary>
    public static AudioDataset FromManifest(string manifest) => ReadManifest(manifest, null);

    /// <summary>A fairseq manifest whose i-th listed file has transcript <paramref name="transcripts"/>[i] (if given).</summary>
    internal static AudioDataset ReadManifest(string manifest, IReadOnlyList<string>? transcripts)
    {
        string[] lines = File.ReadAllLines(manifest);
        if (lines.Length == 0)
            throw new InvalidDataException($"{manifest}: empty manifest (the first line must be the root directory)");
        string root = lines[0].Trim();
        if (!Path.IsPathRooted(root))
            root = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(manifest))!, root);
        var entries = new List<AudioEntry>();
        var skipped = new List<string>();
        int listed = 0;
        for (int i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
                continue;
            string[] fields = lines[i].Split('\t');
            if (fields.Length < 2 || !long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long samples) || samples <= 0)
                throw new InvalidDataException($"{manifest}:{i + 1}: expected 'relative/path<TAB>num_samples', got '{lines[i]}'");
            string path = Path.Combine(root, fields[0]);
            string? transcript = transcripts == null ? null
                : listed < transcripts.Count ? transcripts[listed] : throw new InvalidDataException(
                    $"{manifest}: more files listed than label lines ({transcripts.Count})");
            listed++;
            if (File.Exists(path))
                entries.Add(new AudioEntry(path, samples, transcript));
            else
                skipped.Add($"{path}: file not found");
        }
        if (transcripts != null && listed != transcripts.Count)
            throw new InvalidDataException($"{manifest}: {listed} files listed for {transcripts.Count} label lines");
        if (entries.Count == 0)
            throw new InvalidDataException($"{manifest}: no existing files listed");
        return new AudioDataset(entries, skipped);
    }
}
