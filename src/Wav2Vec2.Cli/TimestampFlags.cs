using System.CommandLine;
using System.Text;
using Wav2Vec2.Decoding;
using Wav2Vec2.IO;

namespace Wav2Vec2.Cli;

/// <summary>The output flags of transcribe and align: the format, word or token rows, subtitle limits and --out.</summary>
internal sealed class TimestampFlags
{
    public TimestampFlags(string defaultFormat, params string[] formats)
    {
        Format = new Option<string>("--format")
        {
            Description = $"Output: {string.Join(", ", formats)} (json: one object per recording, JSON Lines for several; " +
                          "text with --timestamps, tsv: start, end and word a line).",
            DefaultValueFactory = _ => defaultFormat,
        };
        Format.AcceptOnlyFromAmong(formats);
    }

    public Option<string> Format { get; }
    public Option<string?> Timestamps { get; } = new("--timestamps") { Description = "word or char: rows of the text and tsv formats (json has both)." };
    public Option<string?> Out { get; } = new("--out") { Description = "Write to this file (atomically) instead of standard output." };
    public Option<int?> MaxLineLength { get; } = new("--max-line-length") { Description = "Subtitles: characters per line (default 42)." };
    public Option<int?> MaxLines { get; } = new("--max-lines") { Description = "Subtitles: lines per cue (default 2)." };
    public Option<double?> MaxCueSeconds { get; } = new("--max-cue-seconds") { Description = "Subtitles: longest cue (default 7)." };

    public IEnumerable<Option> All => [Format, Timestamps, Out, MaxLineLength, MaxLines, MaxCueSeconds];

    /// <summary>Whether the command writes times at all (else the plain transcript).</summary>
    public bool Timed(ParseResult parse) => parse.GetValue(Format) != "text" || parse.GetValue(Timestamps) != null;

    /// <summary>Checks the flags before anything runs; returns the full output path or null.</summary>
    public string? Check(ParseResult parse, int recordings)
    {
        if (parse.GetValue(Timestamps) is string level && level is not ("word" or "char"))
            throw new CliException($"--timestamps must be word or char, got '{level}'");
        if (recordings > 1 && parse.GetValue(Format) is "srt" or "vtt")
            throw new CliException($"--format {parse.GetValue(Format)} writes the subtitles of one recording: give one --audio");
        TrainingRun.Positive(parse.GetValue(MaxLineLength), "--max-line-length");
        TrainingRun.Positive(parse.GetValue(MaxLines), "--max-lines");
        if (parse.GetValue(MaxCueSeconds) is double seconds && !(seconds > 0))
            throw new CliException($"--max-cue-seconds must be positive, got {seconds}");
        return parse.GetValue(Out) is string path ? ModelCommands.OutputPath(path) : null;
    }

    /// <summary>One recording's output in the chosen format.</summary>
    public string Render(ParseResult parse, string file, TimedTranscript timed)
    {
        bool tokens = parse.GetValue(Timestamps) == "char";
        return parse.GetValue(Format) switch
        {
            "json" => timed.ToJson(file) + "\n",
            "srt" => timed.ToSrt(Subtitles(parse)),
            "vtt" => timed.ToWebVtt(Subtitles(parse)),
            "tsv" => timed.ToTsv(tokens),
            _ => timed.ToTimedText(tokens),
        };
    }

    /// <summary>Writes the outputs: to --out atomically (nothing when none succeeded), else to standard output.</summary>
    public static void Write(string? target, TextWriter output, StringBuilder text)
    {
        if (target == null)
            output.Write(text);
        else if (text.Length > 0)
        {
            AtomicFile.WriteText(target, text.ToString());
            output.WriteLine($"wrote {target}");
        }
    }

    private SubtitleOptions Subtitles(ParseResult parse)
    {
        var defaults = new SubtitleOptions();
        return defaults with
        {
            MaxLineLength = parse.GetValue(MaxLineLength) ?? defaults.MaxLineLength,
            MaxLines = parse.GetValue(MaxLines) ?? defaults.MaxLines,
            MaxCueSeconds = parse.GetValue(MaxCueSeconds) ?? defaults.MaxCueSeconds,
        };
    }
}
