using System.Text.Encodings.Web;
using System.Text.Json;
using Wav2Vec2.IO;

namespace Wav2Vec2.Models;

/// <summary>
/// The character vocabulary of a CTC head (Hugging Face Wav2Vec2CTCTokenizer: vocab.json, tokenizer_config.json,
/// special_tokens_map.json): one token per id, the pad token doubling as the CTC blank, special tokens that are never
/// transcribed, and a word delimiter ("|") that stands for the space between words. Text goes in normalised by
/// <see cref="TranscriptNormalizer"/>; decoding lives in the Decoding layer.
/// </summary>
public sealed class CtcTokenizer
{
    private static readonly string[] DefaultSpecialTokens = ["<pad>", "<s>", "</s>", "<unk>"];
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;
    private readonly HashSet<int> _special = [];

    /// <summary>Creates a tokenizer from token ids (gaps are allowed and decode to nothing).</summary>
    /// <exception cref="InvalidDataException">A negative id, or no pad token.</exception>
    public CtcTokenizer(IReadOnlyDictionary<string, int> vocabulary, string padToken = "<pad>", string wordDelimiter = "|",
        IEnumerable<string>? specialTokens = null)
    {
        int size = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
        _tokens = new string[size];
        _ids = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        foreach (var (token, id) in vocabulary)
        {
            if (id < 0)
                throw new InvalidDataException($"vocabulary: token '{token}' has negative id {id}");
            _tokens[id] = token;
        }
        PadId = vocabulary.TryGetValue(padToken, out int pad) ? pad
            : throw new InvalidDataException($"vocabulary has no pad token '{padToken}'");
        PadToken = padToken;
        WordDelimiter = wordDelimiter;
        LetterCase = CaseOf(vocabulary.Keys);
        foreach (string token in specialTokens ?? [.. DefaultSpecialTokens.Skip(1), padToken])
            if (vocabulary.TryGetValue(token, out int id))
                _special.Add(id);
    }

    /// <summary>Id of the pad token, which CTC uses as its blank.</summary>
    public int PadId { get; }

    /// <summary>The pad (blank) token's text.</summary>
    public string PadToken { get; }

    /// <summary>The token that separates words ("|").</summary>
    public string WordDelimiter { get; }

    /// <summary>Id of <see cref="WordDelimiter"/>, or -1 when the vocabulary has none.</summary>
    public int WordDelimiterId => _ids.GetValueOrDefault(WordDelimiter, -1);

    /// <summary>Number of ids (vocab_size).</summary>
    public int Count => _tokens.Length;

    /// <summary>Token text of <paramref name="id"/> ("" for an unknown id).</summary>
    public string Token(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] ?? "" : "";

    /// <summary>
    /// The case the vocabulary's letters are in: <see cref="LetterCase.Lower"/> when every cased letter is lower case,
    /// <see cref="LetterCase.Keep"/> when both cases have tokens, else <see cref="LetterCase.Upper"/>.
    /// </summary>
    public LetterCase LetterCase { get; }

    /// <summary>
    /// <paramref name="text"/> normalised as <see cref="TranscriptNormalizer"/> does, in the vocabulary's
    /// <see cref="LetterCase"/>: the form <see cref="Encode"/> expects.
    /// </summary>
    public string Normalize(string text) => TranscriptNormalizer.Normalize(text, LetterCase);

    // Single-character tokens that are letters with a case decide; special tokens are words, not letters.
    private static LetterCase CaseOf(IEnumerable<string> tokens)
    {
        bool upper = false, lower = false;
        foreach (string token in tokens)
        {
            if (token.Length == 1 && char.IsLetter(token[0]))
            {
                upper |= char.IsUpper(token[0]);
                lower |= char.IsLower(token[0]);
            }
        }
        return upper && lower ? LetterCase.Keep : lower ? LetterCase.Lower : LetterCase.Upper;
    }

    /// <summary>Id of <paramref name="token"/>, or -1 when the vocabulary has none.</summary>
    internal int Id(string token) => _ids.GetValueOrDefault(token, -1);

    /// <summary>True for the pad and the other special tokens (&lt;s&gt;, &lt;/s&gt;, &lt;unk&gt;), which are never transcribed.</summary>
    public bool IsSpecial(int id) => _special.Contains(id);

    /// <summary>
    /// The Hugging Face layout built from training transcripts (already normalised): &lt;pad&gt; 0 (the blank), &lt;s&gt; 1,
    /// &lt;/s&gt; 2, &lt;unk&gt; 3, | 4, then every character of the transcripts, most frequent first (ties in ordinal
    /// order), as fairseq's letter dictionary and facebook/wav2vec2-base-960h order them.
    /// </summary>
    public static CtcTokenizer FromTranscripts(IEnumerable<string> normalizedTranscripts)
    {
        var counts = new Dictionary<char, long>();
        foreach (string transcript in normalizedTranscripts)
            foreach (char c in transcript)
                if (c != ' ')
                    counts[c] = counts.GetValueOrDefault(c) + 1;
        var vocabulary = new Dictionary<string, int>();
        foreach (string token in DefaultSpecialTokens.Append("|"))
            vocabulary[token] = vocabulary.Count;
        foreach (char c in counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Select(p => p.Key))
            vocabulary.TryAdd(c.ToString(), vocabulary.Count);
        return new CtcTokenizer(vocabulary);
    }

    /// <summary>
    /// Ids of a normalised transcript: one per character, spaces become the word delimiter (Hugging Face's
    /// tokenization: no delimiter at the ends, no &lt;s&gt;/&lt;/s&gt;).
    /// </summary>
    /// <exception cref="ArgumentException">A character has no token; the message lists every such character.</exception>
    public int[] Encode(string normalizedText)
    {
        var unknown = new List<char>();
        int[] ids = EncodeAllowingUnknown(normalizedText, unknown);
        return unknown.Count == 0 ? ids
            : throw new ArgumentException($"characters outside the vocabulary: {string.Join(" ", unknown.Select(c => $"'{c}'"))}");
    }

    /// <summary>
    /// As <see cref="Encode"/>, but a character without a token becomes &lt;unk&gt; (or is left out when the vocabulary
    /// has none) and is added once to <paramref name="unknown"/> (in order of first appearance), as Hugging Face's
    /// tokenizer and fairseq's dictionary do: for validation and test transcripts, which may hold characters the training
    /// transcripts never had.
    /// </summary>
    internal int[] EncodeAllowingUnknown(string normalizedText, ICollection<char> unknown)
    {
        bool hasUnk = _ids.TryGetValue("<unk>", out int unk);
        var ids = new List<int>(normalizedText.Length);
        foreach (char c in normalizedText)
        {
            string token = c == ' ' ? WordDelimiter : c.ToString();
            if (_ids.TryGetValue(token, out int id) && !IsSpecial(id))
                ids.Add(id);
            else
            {
                if (!unknown.Contains(c))
                    unknown.Add(c);
                if (hasUnk)
                    ids.Add(unk);
            }
        }
        return [.. ids];
    }

    /// <summary>Reads vocab.json (and tokenizer_config.json for the pad and delimiter tokens, if present).</summary>
    /// <exception cref="FileNotFoundException">No vocab.json.</exception>
    /// <exception cref="InvalidDataException">vocab.json or tokenizer_config.json is not valid.</exception>
    public static CtcTokenizer Load(string directory) => Load(directory, null);

    /// <summary>
    /// As <see cref="Load(string)"/>; a multilingual vocab.json (MMS: one vocabulary per language code) gives the
    /// vocabulary of <paramref name="language"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">No such language, or a multilingual vocabulary and no language.</exception>
    public static CtcTokenizer Load(string directory, string? language)
    {
        string vocabPath = Path.Combine(directory, "vocab.json");
        if (!File.Exists(vocabPath))
            throw new FileNotFoundException($"{directory}: no vocab.json (a CTC vocabulary is needed to transcribe)");
        try
        {
            Dictionary<string, int> vocabulary = Vocabulary(vocabPath, language);
            string pad = "<pad>", delimiter = "|";
            string configPath = Path.Combine(directory, "tokenizer_config.json");
            if (File.Exists(configPath))
            {
                using JsonDocument config = JsonDocument.Parse(File.ReadAllText(configPath));
                if (config.RootElement.TryGetProperty("pad_token", out JsonElement p) && p.ValueKind == JsonValueKind.String)
                    pad = p.GetString()!;
                if (config.RootElement.TryGetProperty("word_delimiter_token", out JsonElement d) && d.ValueKind == JsonValueKind.String)
                    delimiter = d.GetString()!;
            }
            return new CtcTokenizer(vocabulary, pad, delimiter);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{vocabPath}: invalid vocabulary ({e.Message})");
        }
    }

    /// <summary>The language codes of a multilingual vocab.json (MMS), or none for a vocabulary of one language.</summary>
    public static IReadOnlyList<string> Languages(string directory)
    {
        string vocabPath = Path.Combine(directory, "vocab.json");
        if (!File.Exists(vocabPath))
            return [];
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(vocabPath));
        return IsMultilingual(json.RootElement) ? [.. json.RootElement.EnumerateObject().Select(p => p.Name)] : [];
    }

    private static bool IsMultilingual(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.EnumerateObject().Any() && root.EnumerateObject().All(p => p.Value.ValueKind == JsonValueKind.Object);

    private static Dictionary<string, int> Vocabulary(string vocabPath, string? language)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(vocabPath));
        JsonElement root = json.RootElement;
        if (IsMultilingual(root))
        {
            string[] languages = [.. root.EnumerateObject().Select(p => p.Name)];
            if (language == null)
                throw new InvalidDataException($"{vocabPath}: holds the vocabularies of {languages.Length} languages ({Some(languages)}): choose one (target language)");
            if (!root.TryGetProperty(language, out JsonElement chosen))
                throw new InvalidDataException($"{vocabPath}: no vocabulary for language '{language}' (it has {Some(languages)})");
            root = chosen;
        }
        else if (language != null)
            throw new InvalidDataException($"{vocabPath}: holds one vocabulary, not one per language: a target language ('{language}') applies to MMS models only");
        return root.Deserialize<Dictionary<string, int>>() ?? throw new InvalidDataException($"{vocabPath}: empty vocabulary");

        static string Some(string[] names) => string.Join(", ", names.Take(8)) + (names.Length > 8 ? $", ... ({names.Length})" : "");
    }

    /// <summary>
    /// Writes vocab.json, tokenizer_config.json and special_tokens_map.json into <paramref name="directory"/>, as
    /// Hugging Face's Wav2Vec2CTCTokenizer.save_pretrained does, each file atomically.
    /// </summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        // Relaxed escaping keeps apostrophes and letters readable in vocab.json (still valid JSON for Hugging Face).
        var indented = new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var vocabulary = _ids.OrderBy(p => p.Value).ToDictionary(p => p.Key, p => p.Value);
        string? Special(string token) => _ids.ContainsKey(token) ? token : null;
        var specialTokens = new Dictionary<string, string?>
        {
            ["bos_token"] = Special("<s>"), ["eos_token"] = Special("</s>"), ["unk_token"] = Special("<unk>"), ["pad_token"] = PadToken,
        };
        var config = specialTokens.ToDictionary(p => p.Key, p => (object?)p.Value);
        foreach (var (key, value) in new Dictionary<string, object>
        {
            ["tokenizer_class"] = "Wav2Vec2CTCTokenizer", ["word_delimiter_token"] = WordDelimiter,
            ["replace_word_delimiter_char"] = " ", ["do_lower_case"] = false,
        })
            config[key] = value;
        AtomicFile.WriteText(Path.Combine(directory, "vocab.json"), JsonSerializer.Serialize(vocabulary, indented));
        AtomicFile.WriteText(Path.Combine(directory, "tokenizer_config.json"), JsonSerializer.Serialize(config, indented));
        AtomicFile.WriteText(Path.Combine(directory, "special_tokens_map.json"), JsonSerializer.Serialize(specialTokens, indented));
    }
}
