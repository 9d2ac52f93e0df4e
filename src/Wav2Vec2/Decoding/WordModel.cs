using Wav2Vec2.Models;

namespace Wav2Vec2.Decoding;

/// <summary>
/// What the beam search knows about words: which token sequences may form one (a lexicon, or anything), their
/// spelling trie, their language-model ids and how a word or a partial word is scored. The only difference between
/// the lexicon-free and the lexicon-constrained decoder lives here. Immutable.
/// </summary>
internal sealed class WordModel
{
    /// <summary>A partial word outside the spelling trie (lexicon-free decoding only).</summary>
    public const int Outside = -1;

    /// <summary>A token the lexicon does not allow here.</summary>
    public const int Forbidden = -2;

    private readonly SpellingTrie? _trie;        // null: lexicon-free without a language model (no words are known)
    private readonly string[] _wordText;         // (words,) text of a word index
    private readonly int[] _wordLm;              // (words,) its language-model id, -1 if the model does not know it
    private readonly ILanguageModel? _lm;
    private readonly float _unknownWordScore;    // log10, added to the score of an unknown word
    private readonly float _outsideLookAhead;    // log10 look-ahead of a partial word outside the trie

    private WordModel(bool constrained, ILanguageModel? lm, float unknownWordScore, string[] wordText, int[] wordLm,
        IEnumerable<(int Word, int[] Tokens)>? spellings)
    {
        Constrained = constrained;
        _lm = lm;
        _unknownWordScore = unknownWordScore;
        _wordText = wordText;
        _wordLm = wordLm;
        _outsideLookAhead = lm is null ? 0f : lm.Score(lm.NullContext(), -1, out _) + unknownWordScore;
        if (spellings is not null)
            _trie = new SpellingTrie(spellings, ContextFreeScore);
    }

    /// <summary>True when only lexicon words can be produced.</summary>
    public bool Constrained { get; }

    /// <summary>The language model, if any.</summary>
    public ILanguageModel? LanguageModel => _lm;

    /// <summary>Lexicon-free: words are any token sequence; the LM's words are spelled with the tokenizer's characters.</summary>
    public static WordModel Free(CtcTokenizer tokenizer, ILanguageModel? lm, float unknownWordScore)
    {
        if (lm is null)
            return new WordModel(false, null, unknownWordScore, [], [], null);
        var characters = new Dictionary<char, int>();
        for (int id = 0; id < tokenizer.Count; id++)
            if (tokenizer.Token(id) is { Length: 1 } token && token != tokenizer.WordDelimiter && !tokenizer.IsSpecial(id))
                characters.TryAdd(token[0], id);
        IReadOnlyList<string> vocabulary = lm.Vocabulary;
        var spellings = new List<(int, int[])>();
        for (int word = 0; word < vocabulary.Count; word++)
            if (Spell(vocabulary[word], characters) is int[] tokens)
                spellings.Add((word, tokens));
        int[] ids = Enumerable.Range(0, vocabulary.Count).ToArray();
        return new WordModel(false, lm, unknownWordScore, [.. vocabulary], ids, spellings);
    }

    /// <summary>Lexicon-constrained: only the lexicon's words, by its spellings.</summary>
    public static WordModel FromLexicon(Lexicon lexicon, ILanguageModel? lm, float unknownWordScore)
    {
        string[] words = [.. lexicon.Words];
        int[] ids = words.Select(w => lm?.WordId(w) ?? -1).ToArray();
        return new WordModel(true, lm, unknownWordScore, words, ids, lexicon.Spellings);
    }

    /// <summary>The partial-word state after <paramref name="token"/> (a character, not the delimiter).</summary>
    public int Advance(int spelling, int token)
    {
        int next = _trie is null || spelling == Outside ? Outside : _trie.Child(spelling, token);
        return next >= 0 || !Constrained ? next : Forbidden;
    }

    /// <summary>Whether the partial word <paramref name="spelling"/> may end here (a lexicon word, if constrained).</summary>
    public bool CanEndWord(int spelling) => !Constrained || (spelling > SpellingTrie.Root && !_trie!.Words(spelling).IsEmpty);

    /// <summary>
    /// log10 score of completing the partial word <paramref name="spelling"/> after <paramref name="state"/>: its LM
    /// score plus the unknown-word score if the LM does not know it; of several words sharing the spelling, the best.
    /// <paramref name="next"/> is the LM state after it, <paramref name="word"/> the word index chosen (-1: a word
    /// outside the lexicon and the LM's vocabulary).
    /// </summary>
    public float CompleteWord(in LanguageModelState state, int spelling, out LanguageModelState next, out int word)
    {
        ReadOnlySpan<int> candidates = _trie is not null && spelling > SpellingTrie.Root ? _trie.Words(spelling) : [];
        word = candidates.IsEmpty ? -1 : candidates[0];
        if (_lm is null)
        {
            next = default;
            return 0f;
        }
        float best = Score(state, word, out next);
        for (int i = 1; i < candidates.Length; i++)
        {
            float score = Score(state, candidates[i], out LanguageModelState after);
            if (score > best)
                (best, word, next) = (score, candidates[i], after);
        }
        return best;
    }

    /// <summary>log10 look-ahead of a partial word: the best context-free score of a word it can still become.</summary>
    public float LookAhead(int spelling) => spelling == Outside ? _outsideLookAhead : _trie?.Best(spelling) ?? 0f;

    /// <summary>Text of word index <paramref name="word"/>.</summary>
    public string WordText(int word) => _wordText[word];

    private float Score(in LanguageModelState state, int word, out LanguageModelState next)
    {
        int lmId = word >= 0 ? _wordLm[word] : -1;
        float score = _lm!.Score(state, lmId, out next);
        return lmId < 0 ? score + _unknownWordScore : score;
    }

    private float ContextFreeScore(int word) => _lm is null ? 0f : Score(_lm.NullContext(), word, out _);

    /// <summary>Token ids of <paramref name="word"/> character by character (trying upper then lower case), or null.</summary>
    private static int[]? Spell(string word, Dictionary<char, int> characters)
    {
        if (word is "<s>" or "</s>" or "<unk>" || word.Length == 0)
            return null;
        var tokens = new int[word.Length];
        for (int i = 0; i < word.Length; i++)
        {
            char c = word[i];
            if (!characters.TryGetValue(c, out tokens[i]) && !characters.TryGetValue(char.ToUpperInvariant(c), out tokens[i])
                && !characters.TryGetValue(char.ToLowerInvariant(c), out tokens[i]))
                return null;
        }
        return tokens;
    }
}
