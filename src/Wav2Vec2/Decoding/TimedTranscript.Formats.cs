using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Wav2Vec2.Decoding;

/// <summary>How <see cref="TimedTranscript.ToSrt"/> and <see cref="TimedTranscript.ToWebVtt"/> cut words into cues,
/// with the usual subtitle limits as defaults.</summary>
/// <example><code>
/// string srt = timed.ToSrt(new SubtitleOptions { MaxLineLength = 32, MaxLines = 1 });
/// </code></example>
public sealed record SubtitleOptions
{
    /// <summary>Characters per line at most (a longer single word gets a line of its own).</summary>
    public int MaxLineLength { get; init; } = 42;

    /// <summary>Lines per cue at most.</summary>
    public int MaxLines { get; init; } = 2;

    /// <summary>Longest cue, from its first word's start to its last word's end.</summary>
    public double MaxCueSeconds { get; init; } = 7;

    /// <summary>A pause longer than this between two words starts a new cue.</summary>
    public double MaxPauseSeconds { get; init; } = 1;

    internal void Validate()
    {
        if (MaxLineLength < 1 || MaxLines < 1 || !(MaxCueSeconds > 0) || !(MaxPauseSeconds >= 0))
            throw new ArgumentException($"subtitle limits must be positive, got line length {MaxLineLength}, lines {MaxLines}, " +
                $"cue {MaxCueSeconds} s, pause {MaxPauseSeconds} s");
    }
}

public sealed partial record TimedTranscript
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// One JSON object: <c>{"file": ..., "text": ..., "words": [{"word", "start", "end", "score"}], "tokens":
    /// [{"token", "start", "end", "score"}]}</c>, times in seconds (to the millisecond), no line breaks (JSON Lines).
    /// </summary>
    /// <param name="file">The recording's name (null: no "file" field).</param>
    public string ToJson(string? file = null)
    {
        var json = new JsonObject();
        if (file != null)
            json["file"] = file;
        json["text"] = Text;
        json["words"] = new JsonArray([.. Words.Select(w => Entry("word", w.Word, w.Start, w.End, w.Score))]);
        json["tokens"] = new JsonArray([.. Tokens.Select(t => Entry("token", t.Token, t.Start, t.End, t.Score))]);
        return json.ToJsonString(Compact);

        static JsonNode Entry(string name, string text, double start, double end, double score) => new JsonObject
        {
            [name] = text, ["start"] = Math.Round(start, 3), ["end"] = Math.Round(end, 3), ["score"] = Math.Round(score, 4),
        };
    }

    /// <summary>A table with a header: start, end (seconds), word and score; with <paramref name="tokens"/>, one row per
    /// token instead of per word.</summary>
    public string ToTsv(bool tokens = false) => "start\tend\t" + (tokens ? "token" : "word") + "\tscore\n" + Rows(tokens, withScore: true);

    /// <summary>Lines of start, end (seconds) and word separated by tabs, no header; tokens with <paramref name="tokens"/>.</summary>
    public string ToTimedText(bool tokens = false) => Rows(tokens, withScore: false);

    /// <summary>SubRip subtitles: numbered cues of the words (see <see cref="SubtitleOptions"/>).</summary>
    /// <exception cref="ArgumentException">Invalid limits.</exception>
    public string ToSrt(SubtitleOptions? options = null) => Subtitles(options, webVtt: false);

    /// <summary>WebVTT subtitles: cues of the words (see <see cref="SubtitleOptions"/>).</summary>
    /// <exception cref="ArgumentException">Invalid limits.</exception>
    public string ToWebVtt(SubtitleOptions? options = null) => Subtitles(options, webVtt: true);

    private string Rows(bool tokens, bool withScore)
    {
        var text = new StringBuilder();
        IEnumerable<(string Text, double Start, double End, double Score)> rows = tokens
            ? Tokens.Select(t => (t.Token, t.Start, t.End, t.Score))
            : Words.Select(w => (w.Word, w.Start, w.End, w.Score));
        foreach (var (item, start, end, score) in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"{start:F3}\t{end:F3}\t{item}");
            if (withScore)
                text.Append(CultureInfo.InvariantCulture, $"\t{score:F4}");
            text.Append('\n');
        }
        return text.ToString();
    }

    private string Subtitles(SubtitleOptions? options, bool webVtt)
    {
        options ??= new SubtitleOptions();
        options.Validate();
        var text = new StringBuilder(webVtt ? "WEBVTT\n\n" : "");
        int number = 0;
        foreach (List<List<WordSpan>> cue in Cues(options))
        {
            WordSpan first = cue[0][0], last = cue[^1][^1];
            if (!webVtt)
                text.Append(CultureInfo.InvariantCulture, $"{++number}\n");
            text.Append($"{Clock(first.Start, webVtt)} --> {Clock(Math.Max(last.End, first.Start + 0.001), webVtt)}\n");
            foreach (List<WordSpan> line in cue)
                text.Append(string.Join(' ', line.Select(w => w.Word))).Append('\n');
            text.Append('\n');
        }
        return text.ToString();
    }

    // Words in cues of lines: a word goes on the current line if it fits, else on a new line if the cue has room, else
    // into a new cue; a long pause or a cue reaching its longest duration also starts a new cue.
    private IEnumerable<List<List<WordSpan>>> Cues(SubtitleOptions options)
    {
        List<List<WordSpan>>? cue = null;
        int lineLength = 0;
        foreach (WordSpan word in Words)
        {
            WordSpan? previous = cue?[^1][^1];
            bool newCue = cue == null || word.Start - previous!.End > options.MaxPauseSeconds || word.End - cue[0][0].Start > options.MaxCueSeconds;
            if (!newCue && lineLength + 1 + word.Word.Length > options.MaxLineLength)
            {
                if (cue!.Count < options.MaxLines)
                {
                    cue.Add([word]);
                    lineLength = word.Word.Length;
                    continue;
                }
                newCue = true;
            }
            if (newCue)
            {
                if (cue != null)
                    yield return cue;
                cue = [[word]];
                lineLength = word.Word.Length;
                continue;
            }
            cue![^1].Add(word);
            lineLength += 1 + word.Word.Length;
        }
        if (cue != null)
            yield return cue;
    }

    // 00:01:02,345 (SubRip) or 00:01:02.345 (WebVTT).
    private static string Clock(double seconds, bool webVtt)
    {
        long milliseconds = (long)Math.Round(seconds * 1000);
        return string.Create(CultureInfo.InvariantCulture,
            $"{milliseconds / 3_600_000:D2}:{milliseconds / 60_000 % 60:D2}:{milliseconds / 1000 % 60:D2}{(webVtt ? '.' : ',')}{milliseconds % 1000:D3}");
    }
}
