using System.Text;

namespace Wav2Vec2.Decoding;

/// <summary>
/// A back-off n-gram language model read from an ARPA file (KenLM, SRILM, IRSTLM; plain or gzip), any order up to 8.
/// Scoring follows the ARPA rules: P(w | h) is the listed probability of the longest listed n-gram h'w with h' a suffix
/// of h, plus the back-off weights of the longer suffixes of h (0 for suffixes that are not listed). Unknown words are
/// scored as &lt;unk&gt; if the file has it, otherwise with a fixed log10 probability.
/// </summary>
/// <remarks>
/// Memory: words are interned to ids once; unigrams are arrays indexed by id; each higher order is a table of
/// 64-bit n-gram hashes with their probability (and back-off weight below the highest order) in flat sorted arrays,
/// about 17 bytes per n-gram (13 at the highest order). As in KenLM's probing model the words of an n-gram are not
/// stored: two distinct n-grams whose hashes collide (odds about n²/2⁶⁵) are reported as a duplicate when loading.
/// </remarks>
public sealed class NGramLanguageModel : ILanguageModel
{
    private readonly string[] _words;                          // (vocabulary,) by id
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _ids;
    private readonly ProbBackoff[] _unigrams;                  // (vocabulary,) by id
    private readonly NGramTable<ProbBackoff>[] _middle;        // orders 2 .. Order-1 at index order-2
    private readonly NGramTable<float>? _highest;              // order Order (null for a unigram model)
    private readonly int _begin, _end, _unknown;               // ids of <s>, </s>, <unk>, or -1
    private readonly float _unknownScore;
    private readonly long[] _counts;

    private NGramLanguageModel(Builder builder, NGramTable<ProbBackoff>[] middle, NGramTable<float>? highest,
        float unknownScore, long[] counts)
    {
        _words = builder.Words;
        _ids = builder.Ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _unigrams = builder.Unigrams;
        _middle = middle;
        _highest = highest;
        _begin = WordId("<s>");
        _end = WordId("</s>");
        _unknown = WordId("<unk>");
        _unknownScore = unknownScore;
        _counts = counts;
    }

    /// <summary>Highest n-gram order.</summary>
    public int Order => _counts.Length;

    /// <summary>Number of n-grams per order (index 0 = unigrams).</summary>
    public IReadOnlyList<long> NGramCounts => _counts;

    /// <summary>Approximate managed bytes held: n-gram tables, unigram arrays, word strings and the word index.</summary>
    public long MemoryBytes
    {
        get
        {
            long bytes = _unigrams.LongLength * 8 + _words.LongLength * (8 + 24 /* index entry */) + (_highest?.Bytes ?? 0);
            foreach (string word in _words)
                bytes += 22 + 2L * word.Length;
            foreach (NGramTable<ProbBackoff> table in _middle)
                bytes += table.Bytes;
            return bytes;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Vocabulary => _words;

    /// <summary>
    /// Reads an ARPA file, gzip-compressed or not (told by its first bytes). Words missing from the model score
    /// <paramref name="unknownWordLog10Probability"/> unless the file lists &lt;unk&gt;.
    /// </summary>
    /// <exception cref="InvalidDataException">A malformed file; the message names the file and line.</exception>
    public static NGramLanguageModel Load(string path, float unknownWordLog10Probability = -100f)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: language model not found", path);
        if (!float.IsFinite(unknownWordLog10Probability) || unknownWordLog10Probability > 0)
            throw new ArgumentException($"the unknown-word log10 probability must be finite and <= 0, got {unknownWordLog10Probability}",
                nameof(unknownWordLog10Probability));
        using ArpaParser parser = Open(path);
        parser.ReadHeader();
        var builder = new Builder(parser);
        parser.ReadSection(1, builder);
        int order = parser.Counts.Length;
        var middle = new NGramTable<ProbBackoff>[Math.Max(0, order - 2)];
        NGramTable<float>? highest = null;
        for (int k = 2; k <= order; k++)
        {
            var keys = new ulong[parser.Counts[k - 1]];
            ulong? duplicate;
            if (k < order)
            {
                var values = new ProbBackoff[keys.Length];
                parser.ReadSection(k, new NGramSink<ProbBackoff>(builder, keys, values, (p, b) => new ProbBackoff(p, b)));
                middle[k - 2] = new NGramTable<ProbBackoff>(keys, values, out duplicate);
            }
            else
            {
                var values = new float[keys.Length];
                parser.ReadSection(k, new NGramSink<float>(builder, keys, values, (p, _) => p));
                highest = new NGramTable<float>(keys, values, out duplicate);
            }
            if (duplicate is ulong key)
                throw DuplicateError(path, builder, k, key);
        }
        parser.ReadEnd();
        return new NGramLanguageModel(builder, middle, highest, unknownWordLog10Probability, parser.Counts);
    }

    /// <inheritdoc/>
    public int WordId(ReadOnlySpan<char> word) => _ids.TryGetValue(word, out int id) ? id : -1;

    /// <inheritdoc/>
    public LanguageModelState BeginSentence()
    {
        var state = new LanguageModelState();
        if (_begin >= 0 && Order > 1)
        {
            state.Keys[0] = NGramHash.Extend(NGramHash.Seed, _begin);
            state.Weights[0] = _unigrams[_begin].Backoff;
            state.Length = 1;
        }
        return state;
    }

    /// <inheritdoc/>
    public LanguageModelState NullContext() => default;

    /// <inheritdoc/>
    public float Score(in LanguageModelState state, int word, out LanguageModelState next)
    {
        // The next state is built apart and assigned last: callers may pass one variable as both state and next.
        var after = new LanguageModelState();
        if ((uint)word >= (uint)_words.Length)
            word = _unknown;
        if (word < 0)
        {
            next = after;           // nothing listed can follow a word the model does not have: empty history
            return _unknownScore;
        }
        float prob = _unigrams[word].Prob;
        int matched = 0;            // context words used by the longest listed n-gram
        int length = Math.Min(state.Length + 1, Order - 1);
        ulong key = NGramHash.Extend(NGramHash.Seed, word);
        if (length > 0)
        {
            after.Keys[0] = key;
            after.Weights[0] = _unigrams[word].Backoff;
        }
        // Every context length is tried, not only up to the first miss, so files without suffix closure score right.
        for (int j = 1; j <= state.Length && j < Order; j++)
        {
            key = NGramHash.Extend(state.Keys[j - 1], word);
            float backoff = 0f;
            if (j + 1 < Order)
            {
                if (_middle[j - 1].TryGetValue(key, out ProbBackoff found))
                    (prob, backoff, matched) = (found.Prob, found.Backoff, j);
            }
            else if (_highest!.TryGetValue(key, out float found))
                (prob, matched) = (found, j);
            if (j < length)
            {
                after.Keys[j] = key;
                after.Weights[j] = backoff;
            }
        }
        for (int j = matched; j < state.Length; j++)
            prob += state.Weights[j];
        after.Length = length;
        next = after;
        return prob;
    }

    /// <inheritdoc/>
    public float EndSentence(in LanguageModelState state) => _end >= 0 ? Score(state, _end, out _) : 0f;

    /// <summary>log10 P(&lt;s&gt; words &lt;/s&gt;): the sum of each word's score in context plus the end of sentence.</summary>
    public float ScoreSentence(IEnumerable<string> words)
    {
        LanguageModelState state = BeginSentence();
        float total = 0f;
        foreach (string word in words)
            total += Score(state, WordId(word), out state);
        return total + EndSentence(state);
    }

    /// <summary>
    /// Whether <paramref name="path"/> starts with the header of KenLM's binary format ("mmap lm
    /// http://kheafield.com/code"), which only KenLM can read.
    /// </summary>
    internal static bool IsKenLmBinary(string path)
    {
        ReadOnlySpan<byte> magic = "mmap lm http://kheafield.com/code"u8;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> head = stackalloc byte[magic.Length];
        return file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(magic);
    }

    /// <summary>The one-line refusal of a KenLM binary file.</summary>
    internal static InvalidDataException KenLmBinaryError(string path) =>
        new($"{path} is a KenLM binary language model; an ARPA file (plain or .gz) is needed, such as the one it was built from");

    private static ArpaParser Open(string path) => IsKenLmBinary(path) ? throw KenLmBinaryError(path) : ArpaParser.Open(path);

    /// <summary>Re-reads the file to name the two lines of a repeated n-gram (an error path only).</summary>
    private static InvalidDataException DuplicateError(string path, Builder builder, int order, ulong key)
    {
        using ArpaParser parser = Open(path);
        parser.ReadHeader();
        var finder = new KeyFinder(builder, parser, key);
        for (int k = 1; k <= order; k++)
            parser.ReadSection(k, k == order ? finder : KeyFinder.Ignore);
        long first = finder.Lines.Count > 0 ? finder.Lines[0] : 0, second = finder.Lines.Count > 1 ? finder.Lines[1] : first;
        return new InvalidDataException($"{path}: line {second}: this {order}-gram repeats line {first} " +
                                        "(or two n-grams share a 64-bit hash)");
    }

    /// <summary>Reads the unigrams (interning words) and turns higher-order lines into keys.</summary>
    private sealed class Builder : IArpaSink
    {
        public readonly Dictionary<string, int> Ids = new(StringComparer.Ordinal);
        public readonly string[] Words;
        public readonly ProbBackoff[] Unigrams;
        private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private readonly ArpaParser _parser;
        private readonly char[] _chars = new char[256];

        public Builder(ArpaParser parser)
        {
            _parser = parser;
            _lookup = Ids.GetAlternateLookup<ReadOnlySpan<char>>();
            Words = new string[parser.Counts[0]];
            Unigrams = new ProbBackoff[Words.Length];
        }

        public void Add(ReadOnlySpan<byte> line, ReadOnlySpan<Range> words, float prob, float backoff)
        {
            string word = Encoding.UTF8.GetString(line[words[0]]);
            int id = Ids.Count;
            if (!Ids.TryAdd(word, id))
                throw _parser.Error($"the 1-gram '{word}' is listed twice");
            Words[id] = word;
            Unigrams[id] = new ProbBackoff(prob, backoff);
        }

        /// <summary>The hash key of an n-gram line's words.</summary>
        public ulong Key(ReadOnlySpan<byte> line, ReadOnlySpan<Range> words)
        {
            ulong key = NGramHash.Seed;
            foreach (Range range in words)
            {
                ReadOnlySpan<byte> word = line[range];
                // Short words (all but pathological ones) are looked up without allocating a string.
                bool known = word.Length <= _chars.Length
                    ? _lookup.TryGetValue(_chars.AsSpan(0, Encoding.UTF8.GetChars(word, _chars)), out int id)
                    : Ids.TryGetValue(Encoding.UTF8.GetString(word), out id);
                if (!known)
                    throw _parser.Error($"'{ArpaParser.Text(word)}' is not among the 1-grams (or the line has the wrong number of words)");
                key = NGramHash.Extend(key, id);
            }
            return key;
        }
    }

    /// <summary>Stores one order's n-grams into preallocated key and value arrays.</summary>
    private sealed class NGramSink<T>(Builder builder, ulong[] keys, T[] values, Func<float, float, T> value) : IArpaSink
    {
        private int _count;

        public void Add(ReadOnlySpan<byte> line, ReadOnlySpan<Range> words, float prob, float backoff)
        {
            keys[_count] = builder.Key(line, words);
            values[_count++] = value(prob, backoff);
        }
    }

    /// <summary>Collects the line numbers whose n-gram has a given key.</summary>
    private sealed class KeyFinder(Builder? builder, ArpaParser? parser, ulong key) : IArpaSink
    {
        public static readonly KeyFinder Ignore = new(null, null, 0);
        public readonly List<long> Lines = [];

        public void Add(ReadOnlySpan<byte> line, ReadOnlySpan<Range> words, float prob, float backoff)
        {
            if (builder is not null && builder.Key(line, words) == key)
                Lines.Add(parser!.LineNumber);
        }
    }
}

/// <summary>The n-gram hash: extended word by word from the left, so a context's key extends to the next n-gram's key.</summary>
internal static class NGramHash
{
    public const ulong Seed = 0x2545F4914F6CDD1DUL;

    /// <summary>Key of the n-gram (words of <paramref name="context"/>, <paramref name="word"/>).</summary>
    public static ulong Extend(ulong context, int word)
    {
        // splitmix64's finaliser over the context and the word id: every bit of both reaches every bit of the key.
        ulong z = context * 0x9E3779B97F4A7C15UL + (uint)word + 1;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
