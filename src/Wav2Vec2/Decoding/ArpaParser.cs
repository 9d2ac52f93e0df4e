using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Wav2Vec2.Decoding;

/// <summary>Receives the n-grams of one ARPA section as the parser reads them.</summary>
internal interface IArpaSink
{
    /// <summary>One n-gram line: its words (UTF-8, whitespace-free), log10 probability and back-off weight (0 if absent).</summary>
    void Add(ReadOnlySpan<byte> line, ReadOnlySpan<Range> words, float prob, float backoff);
}

/// <summary>
/// Reads the ARPA back-off format (what KenLM, SRILM and IRSTLM write) line by line from UTF-8 bytes without
/// allocating per line: a preamble, "\data\", "ngram k=N" counts, one "\k-grams:" section per order, "\end\". Every
/// structural mistake, a probability above 1, a count the file cannot hold and corrupt compressed data throws an
/// <see cref="InvalidDataException"/> naming the file and line.
/// </summary>
internal sealed class ArpaParser : IDisposable
{
    /// <summary>The highest order a <see cref="LanguageModelState"/> can carry.</summary>
    public const int MaxOrder = LanguageModelState.Capacity + 1;

    // Deflate expands at most about 1032 times: the most a gzip file of a given length can hold.
    private const long MaxDeflateRatio = 1032;

    private readonly Stream _stream;
    private readonly string _name;
    private readonly long _capacity;
    private byte[] _buffer = new byte[1 << 20];
    private int _start, _end;
    private bool _endOfStream;
    private long _lineNumber;
    private int _lastStart, _lastLength;     // the line last read, inside _buffer
    private bool _pending;                   // that line is a section header still to be consumed
    private readonly Range[] _fields = new Range[MaxOrder + 3];

    /// <summary>Reads <paramref name="stream"/>, which holds at most <paramref name="capacity"/> bytes, named
    /// <paramref name="name"/> in errors.</summary>
    public ArpaParser(Stream stream, string name, long capacity = long.MaxValue)
    {
        _stream = stream;
        _name = name;
        _capacity = capacity;
    }

    /// <summary>Opens an ARPA file, plain or gzip-compressed (told by its first bytes).</summary>
    public static ArpaParser Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        bool gzip = read == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        return gzip ? new ArpaParser(new GZipStream(file, CompressionMode.Decompress), path, file.Length * MaxDeflateRatio)
            : new ArpaParser(file, path, file.Length);
    }

    /// <summary>Declared number of n-grams per order (index 0 = unigrams), after <see cref="ReadHeader"/>.</summary>
    public long[] Counts { get; private set; } = [];

    /// <summary>The line last read (1-based).</summary>
    public long LineNumber => _lineNumber;

    /// <summary>An error at the current line.</summary>
    public InvalidDataException Error(string message) => new($"{_name}: line {_lineNumber}: {message}");

    /// <summary>Skips the preamble up to "\data\" and reads the "ngram k=N" lines.</summary>
    public void ReadHeader()
    {
        ReadOnlySpan<byte> line;
        do
        {
            if (!TryReadLine(out line))
                throw new InvalidDataException($"{_name}: no \\data\\ header (not an ARPA file)");
        } while (!line.Trim(" \t"u8).SequenceEqual(@"\data\"u8));

        var counts = new List<long>();
        long needed = 0;
        while (TryReadLine(out line) && !(line = line.Trim(" \t"u8)).IsEmpty)
        {
            if (line[0] == (byte)'\\')
            {
                _pending = true;   // "\1-grams:" without a blank line before it
                break;
            }
            int eq = line.IndexOf((byte)'=');
            if (!line.StartsWith("ngram "u8) || eq < 0
                || !int.TryParse(line[6..eq].Trim(" "u8), NumberStyles.None, CultureInfo.InvariantCulture, out int order)
                || !long.TryParse(line[(eq + 1)..].Trim(" "u8), NumberStyles.None, CultureInfo.InvariantCulture, out long count))
                throw Error($"bad n-gram count line '{Text(line)}' (expected 'ngram K=COUNT')");
            if (order != counts.Count + 1)
                throw Error($"count for order {order} where order {counts.Count + 1} was expected");
            if (order > MaxOrder)
                throw Error($"order {order} is above the supported maximum of {MaxOrder}");
            if (count > Array.MaxLength)
                throw Error($"{count} {order}-grams are more than one table can hold");
            // A k-gram line takes at least 2k + 2 bytes (probability, k words, separators, newline): counts are checked
            // against the file's size before any table is allocated from them.
            needed += count * (2 * order + 2);
            if (needed > _capacity)
                throw Error($"{count} {order}-grams cannot fit in a file that holds at most {_capacity} bytes");
            counts.Add(count);
        }
        if (counts.Count == 0)
            throw Error("no 'ngram K=COUNT' lines after \\data\\");
        Counts = [.. counts];
    }

    /// <summary>Reads the "\k-grams:" section of <paramref name="order"/> into <paramref name="sink"/>.</summary>
    public void ReadSection(int order, IArpaSink sink)
    {
        ReadOnlySpan<byte> line = NextNonEmptyLine($"\\{order}-grams:");
        Span<byte> expected = stackalloc byte[16];
        int length = Encoding.ASCII.GetBytes($"\\{order}-grams:", expected);
        if (!line.SequenceEqual(expected[..length]))
            throw Error($"expected '\\{order}-grams:', found '{Text(line)}'");

        long declared = Counts[order - 1], found = 0;
        bool highest = order == Counts.Length;
        while (true)
        {
            if (!TryReadLine(out line))
                throw Error($"the file ends inside the {order}-grams");
            ReadOnlySpan<byte> trimmed = line.Trim(" \t"u8);
            if (trimmed.IsEmpty)
                continue;
            if (trimmed[0] == (byte)'\\')
            {
                _pending = true;   // the next section's header: read it again
                break;
            }
            int fields = Split(trimmed, _fields);
            if (fields != order + 1 && (highest || fields != order + 2))
                throw Error($"a {order}-gram line has a probability, {order} word{(order > 1 ? "s" : "")}" +
                            (highest ? "" : " and an optional back-off weight") + $", but this one has {fields} fields");
            if (++found > declared)
                throw Error($"more {order}-grams than the {declared} the header declares");
            float prob = Number(trimmed[_fields[0]], "probability");
            if (prob > 0)
                throw Error($"log10 probability {Text(trimmed[_fields[0]])} is above 0 (a probability above 1)");
            float backoff = fields == order + 2
                ? Number(trimmed[_fields[order + 1]], "back-off weight", $" (or the line is not a {order}-gram)") : 0f;
            sink.Add(trimmed, _fields.AsSpan(1, order), prob, backoff);
        }
        if (found != declared)
            throw Error($"found {found} {order}-grams but the header declares {declared}");
    }

    /// <summary>Expects "\end\" after the last section.</summary>
    public void ReadEnd()
    {
        ReadOnlySpan<byte> line = NextNonEmptyLine(@"\end\");
        if (!line.SequenceEqual(@"\end\"u8))
            throw Error($"expected '\\end\\' after the {Counts.Length}-grams, found '{Text(line)}'");
    }

    private ReadOnlySpan<byte> NextNonEmptyLine(string expected)
    {
        if (_pending)
        {
            _pending = false;
            return LastLine.Trim(" \t"u8);
        }
        while (TryReadLine(out ReadOnlySpan<byte> line))
            if (!(line = line.Trim(" \t"u8)).IsEmpty)
                return line;
        throw Error($"the file ends where '{expected}' was expected");
    }

    private float Number(ReadOnlySpan<byte> text, string what, string hint = "")
    {
        if (float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && !float.IsNaN(value))
            return value;
        if (text.SequenceEqual("-inf"u8) || text.SequenceEqual("-Infinity"u8))
            return float.NegativeInfinity;
        throw Error($"{what} '{Text(text)}' is not a number{hint}");
    }

    private ReadOnlySpan<byte> LastLine => _buffer.AsSpan(_lastStart, _lastLength);

    /// <summary>Splits on spaces and tabs into <paramref name="fields"/>; returns the field count (may exceed the span).</summary>
    private static int Split(ReadOnlySpan<byte> line, Span<Range> fields)
    {
        int count = 0, i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && (line[i] == (byte)' ' || line[i] == (byte)'\t'))
                i++;
            if (i == line.Length)
                break;
            int start = i;
            while (i < line.Length && line[i] != (byte)' ' && line[i] != (byte)'\t')
                i++;
            if (count < fields.Length)
                fields[count] = start..i;
            count++;
        }
        return count;
    }

    /// <summary>The next line without its terminator ('\n' or "\r\n"); false at the end of the stream.</summary>
    private bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0 || (_endOfStream && _end > _start))
            {
                int length = newline >= 0 ? newline : _end - _start;
                _lastStart = _start;
                _lastLength = length > 0 && _buffer[_start + length - 1] == (byte)'\r' ? length - 1 : length;
                _start += newline >= 0 ? length + 1 : length;
                _lineNumber++;
                line = LastLine;
                return true;
            }
            if (_endOfStream)
            {
                line = default;
                return false;
            }
            Refill();
        }
    }

    private void Refill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
            Array.Resize(ref _buffer, _buffer.Length * 2);   // a line longer than the buffer
        int read;
        try
        {
            read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        }
        catch (InvalidDataException)
        {
            throw Error("the compressed data is corrupt (not a valid gzip stream)");
        }
        catch (IOException e)
        {
            throw Error($"the file cannot be read ({e.Message})");
        }
        if (read == 0)
            _endOfStream = true;
        _end += read;
    }

    /// <summary>Text of a span for messages (cut to 80 characters).</summary>
    public static string Text(ReadOnlySpan<byte> bytes)
    {
        string text = Encoding.UTF8.GetString(bytes);
        return text.Length > 80 ? text[..80] + "..." : text;
    }

    public void Dispose() => _stream.Dispose();
}
