using Wav2Vec2.Audio;

namespace Wav2Vec2.Data;

/// <summary>The layouts of labeled audio that <see cref="AudioDataset.OpenTranscribed"/> reads.</summary>
internal static class TranscriptSources
{
    private const string AudioFolderMetadata = "metadata.csv";

    // Hugging Face's audiofolder takes the first of these columns as the transcript.
    private static readonly string[] AudioFolderTextColumns = ["transcription", "sentence", "text"];

    public static AudioDataset Open(string source, IProgress<DatasetScanProgress>? progress)
    {
        if (Directory.Exists(source))
        {
            string metadata = Path.Combine(source, AudioFolderMetadata);
            return File.Exists(metadata) ? FromAudioFolder(metadata, progress) : FromLibriSpeech(source, progress);
        }
        if (!File.Exists(source))
            throw new FileNotFoundException($"data source '{source}' is neither a directory nor a .tsv or .csv file");
        string? first = File.ReadLines(source).FirstOrDefault(line => line.Trim().Length > 0);
        if (first == null)
            throw new InvalidDataException($"{source}: empty file");
        if (IsAudioFolderMetadata(source, first))
            return FromAudioFolder(source, progress);
        if (IsCommonVoiceHeader(first))
            return FromCommonVoice(source, first, progress);
        // A fairseq manifest starts with its root directory alone on a line; a transcript TSV with "path<TAB>text".
        return first.Contains('\t') ? FromTranscriptTsv(source, progress) : FromManifestWithLabels(source);
    }

    /// <summary>Whether <paramref name="source"/> is a Common Voice TSV or an audio folder's metadata (labeled layouts
    /// that also serve as lists of unlabeled audio).</summary>
    public static bool IsLabeledList(string source)
    {
        string? first = File.ReadLines(source).FirstOrDefault(line => line.Trim().Length > 0);
        return first != null && (IsCommonVoiceHeader(first) || IsAudioFolderMetadata(source, first));
    }

    private static bool IsCommonVoiceHeader(string line)
    {
        string[] columns = line.Split('\t');
        return columns.Contains("path") && columns.Contains("sentence");
    }

    private static bool IsAudioFolderMetadata(string path, string firstLine) =>
        path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) && firstLine.Split(',').Select(c => c.Trim('"', ' ')).Contains("file_name");

    // Common Voice: a header row naming its columns (client_id, path, sentence, ...), clips in clips/ beside the TSV.
    // Fields are never quoted (Common Voice and Hugging Face read them with quoting off), so a sentence may hold quotes.
    private static AudioDataset FromCommonVoice(string tsv, string header, IProgress<DatasetScanProgress>? progress)
    {
        string[] columns = header.Split('\t');
        int pathColumn = Array.IndexOf(columns, "path"), sentenceColumn = Array.IndexOf(columns, "sentence");
        string clips = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tsv))!, "clips");
        var lines = new List<(string Path, string Transcript)>();
        int number = 0;
        foreach (string line in File.ReadLines(tsv).Skip(1))
        {
            number++;
            if (line.Trim().Length == 0)
                continue;
            string[] fields = line.Split('\t');
            if (fields.Length <= Math.Max(pathColumn, sentenceColumn) || fields[pathColumn].Length == 0)
                throw new InvalidDataException($"{tsv}:{number + 1}: expected {columns.Length} tab-separated columns with a path, got '{line}'");
            lines.Add((Path.Combine(clips, fields[pathColumn]), fields[sentenceColumn].Trim()));
        }
        return Build(tsv, lines, progress);
    }

    // Hugging Face audiofolder: metadata.csv with a file_name column (relative to the CSV's folder) and a transcript
    // column; fields may be quoted and hold commas or line breaks.
    private static AudioDataset FromAudioFolder(string metadata, IProgress<DatasetScanProgress>? progress)
    {
        string root = Path.GetDirectoryName(Path.GetFullPath(metadata))!;
        using var csv = Sylvan.Data.Csv.CsvDataReader.Create(metadata, new Sylvan.Data.Csv.CsvDataReaderOptions { Delimiter = ',' });
        string[] columns = [.. Enumerable.Range(0, csv.FieldCount).Select(csv.GetName)];
        string? textColumn = AudioFolderTextColumns.FirstOrDefault(columns.Contains);
        if (!columns.Contains("file_name") || textColumn == null)
            throw new InvalidDataException($"{metadata}: an audio folder's metadata needs a file_name column and one of " +
                $"{string.Join(", ", AudioFolderTextColumns)} (it has {string.Join(", ", columns)})");
        int file = csv.GetOrdinal("file_name"), text = csv.GetOrdinal(textColumn);
        var lines = new List<(string Path, string Transcript)>();
        while (csv.Read())
        {
            string name = csv.GetString(file);
            if (name.Length == 0)
                throw new InvalidDataException($"{metadata}: row {lines.Count + 1} has no file_name");
            lines.Add((Path.Combine(root, name), csv.GetString(text).Trim()));
        }
        return Build(metadata, lines, progress);
    }

    // LibriSpeech: speaker/chapter/speaker-chapter.trans.txt lines "ID TEXT" beside ID.flac (or ID.wav).
    private static AudioDataset FromLibriSpeech(string directory, IProgress<DatasetScanProgress>? progress)
    {
        string[] transcriptFiles = Directory.EnumerateFiles(directory, "*.trans.txt", SearchOption.AllDirectories)
            .OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (transcriptFiles.Length == 0)
            throw new InvalidDataException($"{directory}: no transcripts (*.trans.txt files in the LibriSpeech layout); " +
                "give a LibriSpeech-style directory, a fairseq manifest with a .wrd or .ltr file, or a path<TAB>transcript .tsv");
        var lines = new List<(string Path, string Transcript)>();
        foreach (string file in transcriptFiles)
        {
            string folder = Path.GetDirectoryName(file)!;
            int number = 0;
            foreach (string line in File.ReadLines(file))
            {
                number++;
                if (line.Trim().Length == 0)
                    continue;
                int space = line.IndexOf(' ');
                if (space <= 0)
                    throw new InvalidDataException($"{file}:{number}: expected 'ID TRANSCRIPT', got '{line}'");
                string id = line[..space];
                string audio = Path.Combine(folder, id + ".flac");
                lines.Add((File.Exists(audio) ? audio : Path.Combine(folder, id + ".wav"), line[(space + 1)..].Trim()));
            }
        }
        return Build(directory, lines, progress);
    }

    // "relative/path<TAB>transcript" per line, relative to the TSV's folder.
    private static AudioDataset FromTranscriptTsv(string tsv, IProgress<DatasetScanProgress>? progress)
    {
        string root = Path.GetDirectoryName(Path.GetFullPath(tsv))!;
        var lines = new List<(string Path, string Transcript)>();
        int number = 0;
        foreach (string line in File.ReadLines(tsv))
        {
            number++;
            if (line.Trim().Length == 0)
                continue;
            string[] fields = line.Split('\t');
            if (fields.Length != 2 || fields[0].Length == 0)
                throw new InvalidDataException($"{tsv}:{number}: expected 'relative/path<TAB>transcript', got '{line}'");
            lines.Add((Path.Combine(root, fields[0]), fields[1].Trim()));
        }
        return Build(tsv, lines, progress);
    }

    // fairseq: train.tsv (root, then "path<TAB>samples") with train.wrd (words) or train.ltr ("H I | T H E R E |").
    private static AudioDataset FromManifestWithLabels(string manifest)
    {
        string words = Path.ChangeExtension(manifest, ".wrd"), letters = Path.ChangeExtension(manifest, ".ltr");
        if (File.Exists(words))
            return AudioDataset.ReadManifest(manifest, File.ReadAllLines(words).Select(line => line.Trim()).ToList());
        if (File.Exists(letters))
            return AudioDataset.ReadManifest(manifest, File.ReadAllLines(letters).Select(LettersToText).ToList());
        throw new InvalidDataException($"{manifest}: no label file beside the manifest ({Path.GetFileName(words)} or {Path.GetFileName(letters)})");
    }

    // fairseq's .ltr: letters separated by spaces, "|" after every word.
    private static string LettersToText(string line) =>
        string.Join(' ', line.Replace(" ", "").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static AudioDataset Build(string source, List<(string Path, string Transcript)> lines, IProgress<DatasetScanProgress>? progress) =>
        AudioDataset.Scan([.. lines.Select(l => (l.Path, (string?)l.Transcript))], progress,
            skipped => $"{source}: no readable transcribed recordings{(skipped.Count > 0 ? $" ({skipped.Count} skipped, e.g. {skipped[0]})" : "")}");
}
