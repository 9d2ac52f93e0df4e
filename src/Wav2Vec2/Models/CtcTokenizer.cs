using System.Text;
using System.Text.Json;

namespace Wav2Vec2.Models;

/// <summary>
/// The character vocabulary of a CTC head (Hugging Face Wav2Vec2CTCTokenizer, vocab.json): greedy decoding collapses
/// repeated ids, drops the pad token (the CTC blank) and special tokens, and turns the word delimiter "|" into spaces.
/// </summary>
public sealed class CtcTokenizer
{
    private readonly string[] _tokens;
    private readonly HashSet<int> _special = [];

    /// <summary>Creates a tokenizer from id-indexed tokens.</summary>
    public CtcTokenizer(IReadOnlyDictionary<string, int> vocabulary, string padToken = "<pad>", string wordDelimiter = "|",
        IEnumerable<string>? specialTokens = null)
    {
        int size = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
        _tokens = new string[size];
        foreach (var (token, id) in vocabulary)
        {
            if (id < 0)
                throw new InvalidDataException($"vocabulary: token '{token}' has negative id {id}");
            _tokens[id] = token;
        }
        PadId = vocabulary.TryGetValue(padToken, out int pad) ? pad
            : throw new InvalidDataException($"vocabulary has no pad token '{padToken}'");
        WordDelimiter = wordDelimiter;
        foreach (string token in specialTokens ?? ["<s>", "</s>", "<unk>", padToken])
            if (vocabulary.TryGetValue(token, out int id))
                _special.Add(id);
    }

    /// <summary>Id of the pad token, which CTC uses as its blank.</summary>
    public int PadId { get; }

    /// <summary>The token that separates words ("|").</summary>
    public string WordDelimiter { get; }

    /// <summary>Number of ids (vocab_size).</summary>
    public int Count => _tokens.Length;

    /// <summary>Reads vocab.json (and tokenizer_config.json for the pad and delimiter tokens, if present).</summary>
    public static CtcTokenizer Load(string directory)
    {
        string vocabPath = Path.Combine(directory, "vocab.json");
        if (!File.Exists(vocabPath))
            throw new FileNotFoundException($"{directory}: no vocab.json (a CTC vocabulary is needed to transcribe)");
        try
        {
            var vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
                ?? throw new InvalidDataException($"{vocabPath}: empty vocabulary");
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

    /// <summary>True for the pad token and the special tokens (&lt;s&gt;, &lt;/s&gt;, &lt;unk&gt;): never part of a transcript.</summary>
    internal bool IsSpecial(int id) => _special.Contains(id);

    /// <summary>Token text of <paramref name="id"/>.</summary>
    public string Token(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] ?? "" : "";

    /// <summary>
    /// Greedy CTC decoding of per-frame ids: collapse repeats, drop blanks and special tokens, delimiter to space.
    /// </summary>
    public string Decode(ReadOnlySpan<int> frameIds)
    {
        var text = new StringBuilder();
        int previous = -1;
        foreach (int id in frameIds)
        {
            if (id != previous && id != PadId && !_special.Contains(id))
            {
                string token = Token(id);
                text.Append(token == WordDelimiter ? " " : token);
            }
            previous = id;
        }
        return string.Join(' ', text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
