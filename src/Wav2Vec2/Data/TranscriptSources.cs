using Wav2Vec2.Audio;

namespace Wav2Vec2.Data;

/// <summary>The three layouts of labeled audio that <see cref="AudioDataset.OpenTranscribed"/> reads.</summary>
internal static class TranscriptSources
{
    public static AudioDataset Open(string source)
    {
        if (Directory.Exists(source))
            return FromLibriSpeech(source);
        if (!File.Exists(source))
            throw new FileNotFoundException($"data source '{source}' is neither a directory nor a .tsv file");
        string? first = File.ReadLines(source).FirstOrDefault(line => line.Trim().Length > 0);
        if (first == null)
            throw new InvalidDataException($"{source}: empty file");
        // A fairseq manifest starts with its root directory alone on a line; a transcript TSV with "path<TAB>text".
        return first.Contains('\t') ? FromTranscriptTsv(source) : FromManifestWithLabels(source);
    }

    // LibriSpeech: speaker/chapter/speaker-chapter.trans.txt lines "ID TEXT" beside ID.flac (or ID.wav).
    private static AudioDataset FromLibriSpeech(string directory)
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
        return Build(directory, lines);
    }

    // "relative/path<TAB>transcript" per line, relative to the TSV's folder.
    private static AudioDataset FromTranscriptTsv(string tsv)
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
        return Build(tsv, lines);
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

    private static AudioDataset Build(string source, List<(string Path, string Transcript)> lines)
    {
        var entries = new List<AudioEntry>();
        var skipped = new List<string>();
        foreach (var (path, transcript) in lines)
        {
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
        if (entries.Count == 0)
            throw new InvalidDataException($"{source}: no readable transcribed recordings{(skipped.Count > 0 ? $" ({skipped.Count} skipped, e.g. {skipped[0]})" : "")}");
        return new AudioDataset(entries, skipped);
    }
}
