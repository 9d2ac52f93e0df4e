using Wav2Vec2.Models;

namespace Wav2Vec2.Decoding;

/// <summary>
/// The words a lexicon-constrained decoder may produce, each with one or more spellings in the acoustic tokens:
/// flashlight's and torchaudio's lexicon file, one <c>word&lt;TAB&gt;spelling</c> line per spelling, the spelling
/// being space-separated tokens (a trailing word delimiter "|" is allowed and ignored), e.g. <c>HELLO	H E L L O |</c>.
/// </summary>
internal sealed class Lexicon
{
    private Lexicon(string[] words, (int Word, int[] Tokens)[] spellings)
    {
        Words = words;
        Spellings = spellings;
    }

    /// <summary>Distinct words, in the order of their first line.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>Every spelling: index into <see cref="Words"/> and token ids.</summary>
    internal IReadOnlyList<(int Word, int[] Tokens)> Spellings { get; }

    /// <summary>Reads a lexicon file whose spellings use <paramref name="tokenizer"/>'s tokens.</summary>
    /// <exception cref="InvalidDataException">A malformed line or an unknown token; the message names the file and line.</exception>
    public static Lexicon Load(string path, CtcTokenizer tokenizer)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: lexicon not found", path);
        using var reader = new StreamReader(path);
        return Read(reader, path, tokenizer);
    }

    /// <summary>Reads lexicon lines from <paramref name="reader"/>; <paramref name="name"/> names it in errors.</summary>
    public static Lexicon Read(TextReader reader, string name, CtcTokenizer tokenizer)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokenizer.Count; id++)
            if (tokenizer.Token(id) is { Length: > 0 } token)
                ids.TryAdd(token, id);
        var wordIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var words = new List<string>();
        var spellings = new List<(int, int[])>();
        int lineNumber = 0;
        while (reader.ReadLine() is string line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            // word<TAB>spelling; a line without a tab (torchaudio writes "word t o k e n s |") splits at its first space.
            string trimmed = line.Trim();
            int split = trimmed.IndexOf('\t');
            if (split < 0)
                split = trimmed.IndexOf(' ');
            if (split <= 0)
                throw new InvalidDataException($"{name}: line {lineNumber}: expected 'word<TAB>spelling', found '{trimmed}'");
            string word = trimmed[..split];
            string[] tokens = trimmed[(split + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            int length = tokens.Length;
            while (length > 0 && tokens[length - 1] == tokenizer.WordDelimiter)
                length--;
            if (length == 0)
                throw new InvalidDataException($"{name}: line {lineNumber}: the word '{word}' has an empty spelling");
            var spelling = new int[length];
            for (int i = 0; i < length; i++)
            {
                if (!ids.TryGetValue(tokens[i], out int id))
                    throw new InvalidDataException($"{name}: line {lineNumber}: '{tokens[i]}' in the spelling of '{word}' is not a token of the vocabulary");
                if (tokens[i] == tokenizer.WordDelimiter || tokenizer.IsSpecial(id))
                    throw new InvalidDataException($"{name}: line {lineNumber}: the spelling of '{word}' contains '{tokens[i]}', " +
                                                   "which is a word delimiter, blank or special token");
                spelling[i] = id;
            }
            if (!wordIndex.TryGetValue(word, out int index))
            {
                wordIndex.Add(word, index = words.Count);
                words.Add(word);
            }
            spellings.Add((index, spelling));
        }
        if (spellings.Count == 0)
            throw new InvalidDataException($"{name}: the lexicon has no words");
        return new Lexicon([.. words], [.. spellings]);
    }
}
