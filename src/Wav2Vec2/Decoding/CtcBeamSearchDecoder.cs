using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Decoding;

/// <summary>
/// CTC prefix beam search over the characters of a <see cref="CtcTokenizer"/> with an optional word-level language
/// model applied at word boundaries (the delimiter "|"), either lexicon-free (any character sequence is a word, as
/// pyctcdecode decodes) or constrained to a <see cref="Lexicon"/> (as flashlight's and torchaudio's lexicon decoder:
/// words outside it cannot be produced). The pad token is the CTC blank; special tokens are never emitted.
/// </summary>
/// <remarks>
/// Immutable after construction and safe to call from several threads at once: each call works in its own pooled
/// scratch space (a per-call prefix trie with parent pointers instead of strings, flat beam arrays).
/// </remarks>
public sealed class CtcBeamSearchDecoder : ICtcDecoder
{
    private readonly CtcTokenizer _tokenizer;
    private readonly Func<float, WordModel> _wordModel;   // rebuilds the word model for another unknown-word score
    private readonly string[] _tokenText;                 // (vocab,) token text by id

    /// <summary>Lexicon-free decoding: any character sequence may form a word; the LM (if any) scores each.</summary>
    /// <exception cref="ArgumentException">Invalid options, or a tokenizer without its word delimiter.</exception>
    public CtcBeamSearchDecoder(CtcTokenizer tokenizer, ILanguageModel? languageModel = null, BeamSearchOptions? options = null)
        : this(tokenizer, options, unknown => WordModel.Free(tokenizer, languageModel, unknown))
    {
    }

    /// <summary>Lexicon-constrained decoding: only the words of <paramref name="lexicon"/>, by its spellings.</summary>
    /// <exception cref="ArgumentException">Invalid options, or a tokenizer without its word delimiter.</exception>
    internal CtcBeamSearchDecoder(CtcTokenizer tokenizer, Lexicon lexicon, ILanguageModel? languageModel = null,
        BeamSearchOptions? options = null)
        : this(tokenizer, options, unknown => WordModel.FromLexicon(lexicon, languageModel, unknown))
    {
        ArgumentNullException.ThrowIfNull(lexicon);
    }

    private CtcBeamSearchDecoder(CtcTokenizer tokenizer, BeamSearchOptions? options, Func<float, WordModel> wordModel,
        WordModel? words = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Options = options ?? new BeamSearchOptions();
        Options.Validate();
        _tokenizer = tokenizer;
        _wordModel = wordModel;
        VocabularySize = tokenizer.Count;
        Blank = tokenizer.PadId;
        _tokenText = new string[VocabularySize];
        Emittable = new bool[VocabularySize];
        Delimiter = -1;
        for (int id = 0; id < VocabularySize; id++)
        {
            _tokenText[id] = tokenizer.Token(id);
            Emittable[id] = id == Blank || (!tokenizer.IsSpecial(id) && _tokenText[id].Length > 0);
            if (_tokenText[id] == tokenizer.WordDelimiter && Delimiter < 0)
                Delimiter = id;
        }
        if (Delimiter < 0)
            throw new ArgumentException($"the vocabulary has no word delimiter token '{tokenizer.WordDelimiter}'", nameof(tokenizer));
        Words = words ?? wordModel(Options.UnknownWordScore);
    }

    /// <summary>The settings of this decoder.</summary>
    public BeamSearchOptions Options { get; }

    internal WordModel Words { get; }
    internal int Blank { get; }
    internal int Delimiter { get; }
    internal int VocabularySize { get; }

    /// <summary>(vocab,) whether a token may be tried: the blank and every non-special token.</summary>
    internal bool[] Emittable { get; }

    internal string TokenText(int id) => _tokenText[id];

    /// <summary>
    /// A decoder with other settings sharing this one's tokenizer, lexicon, language model and spelling trie (cheap:
    /// for tuning alpha and beta on a dev set).
    /// </summary>
    public CtcBeamSearchDecoder WithOptions(BeamSearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        bool sameWords = options.UnknownWordScore == Options.UnknownWordScore;
        return new CtcBeamSearchDecoder(_tokenizer, options, _wordModel, sameWords ? Words : null);
    }

    /// <summary>
    /// Decodes one utterance: logits or log-probabilities of shape (frames, vocab) in row-major order (each frame is
    /// log-softmax normalised, so either works). Returns up to <see cref="BeamSearchOptions.NBest"/> distinct
    /// transcripts, best first (none if no hypothesis survives, e.g. a lexicon that cannot spell any of it).
    /// </summary>
    /// <exception cref="ArgumentException">Empty input, a length that is not a whole number of frames, NaN.</exception>
    public IReadOnlyList<DecodingHypothesis> Decode(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
            throw new ArgumentException("logits are empty: at least one frame is needed", nameof(logits));
        if (logits.Length % VocabularySize != 0)
            throw new ArgumentException($"logits hold {logits.Length} values, not a whole number of frames of the " +
                                        $"vocabulary size {VocabularySize} (expected shape (frames, {VocabularySize}))", nameof(logits));
        BeamSearch search = BeamSearch.Rent();
        try
        {
            return search.Run(this, logits, logits.Length / VocabularySize);
        }
        finally
        {
            BeamSearch.Return(search);
        }
    }

    /// <summary>Decodes a (frames, vocab) tensor of logits or log-probabilities.</summary>
    /// <exception cref="ArgumentException">A tensor that is not (frames, vocab) with frames &gt; 0.</exception>
    public IReadOnlyList<DecodingHypothesis> Decode(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank != 2 || logits.Size(1) != VocabularySize)
            throw new ArgumentException($"logits must have shape (frames, {VocabularySize}), got ({string.Join(", ", logits.ShapeArray)})",
                nameof(logits));
        return Decode(logits.Span);
    }

    /// <summary>
    /// The best transcript with the time of each word and token: its tokens are force-aligned to the frames (the most
    /// probable CTC path that spells them, <see cref="AlignmentOptions"/>' defaults), so the times are those of the
    /// transcript's best alignment; an empty transcript when no hypothesis survives.
    /// </summary>
    /// <example><code>
    /// TimedTranscript timed = decoder.DecodeWithTimestamps(logits.Span, logits.Size(0), 320 / 16000.0);
    /// </code></example>
    public TimedTranscript DecodeWithTimestamps(ReadOnlySpan<float> logits, int frames, double secondsPerFrame)
    {
        if (logits.Length != frames * VocabularySize)
            throw new ArgumentException($"logits hold {logits.Length} values, not {frames} frames x {VocabularySize} tokens");
        IReadOnlyList<DecodingHypothesis> best = Decode(logits);
        if (best.Count == 0 || best[0].TokenIds.Length == 0)
            return new TimedTranscript("", [], []);
        float[] logProbs = TimedTranscript.LogSoftmax(logits, VocabularySize);
        var defaults = new AlignmentOptions();
        int[] path = CtcViterbi.Align(logProbs, frames, VocabularySize, best[0].TokenIds, Blank, defaults.MaxExactStates,
            defaults.WindowFrames(secondsPerFrame), Delimiter);
        TimedTranscript timed = TimedTranscript.FromTokenPath(path, logProbs, _tokenizer, secondsPerFrame);
        // Words as the hypothesis writes them: a lexicon's spelling of a word may differ from its text.
        string[] words = best[0].Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length == timed.Words.Count
            ? timed with { Text = best[0].Text, Words = [.. timed.Words.Zip(words, (span, word) => span with { Word = word })] }
            : timed;
    }

    /// <summary>The best transcript ("" when no hypothesis survives).</summary>
    string ICtcDecoder.Decode(ReadOnlySpan<float> logits, int frames)
    {
        if (logits.Length != frames * VocabularySize)
            throw new ArgumentException($"logits hold {logits.Length} values, not {frames} frames x {VocabularySize} tokens");
        IReadOnlyList<DecodingHypothesis> best = Decode(logits);
        return best.Count > 0 ? best[0].Text : "";
    }

    /// <summary>
    /// Grid search of the language-model weight (alpha) and word insertion bonus (beta) on a dev set, as pyctcdecode
    /// users and fairseq's infer.py do: the acoustic model ran once per utterance, every grid point only re-decodes the
    /// logits; the other settings (beam width, lexicon, language model) stay this decoder's. Never tune on the test set.
    /// Returns every (alpha, beta) of the grid, best (lowest WER, then CER) first.
    /// </summary>
    /// <param name="utterances">Logits (frames, vocab_size) of each dev utterance with its reference transcript.</param>
    /// <param name="alphas">Language-model weights to try.</param>
    /// <param name="betas">Word insertion bonuses to try.</param>
    /// <example><code>
    /// var best = decoder.TuneLanguageModel(dev, alphas: [0.5f, 1f, 1.5f], betas: [0f, 1f, 2f])[0];
    /// </code></example>
    public IReadOnlyList<LanguageModelTrial> TuneLanguageModel(IReadOnlyList<(Tensor Logits, string Reference)> utterances,
        IEnumerable<float> alphas, IEnumerable<float> betas)
    {
        var trials = new List<LanguageModelTrial>();
        float[] betaValues = betas.ToArray();
        foreach (float alpha in alphas)
            foreach (float beta in betaValues)
            {
                ICtcDecoder candidate = WithOptions(Options with { LanguageModelWeight = alpha, WordInsertionBonus = beta });
                var results = new TranscriptionResult[utterances.Count];
                Threading.Parallelism.For(utterances.Count, i =>
                {
                    (Tensor logits, string reference) = utterances[i];
                    results[i] = TranscriptionResult.Score(i.ToString(System.Globalization.CultureInfo.InvariantCulture), reference,
                        candidate.Decode(logits.Span, logits.Size(0)));
                });
                trials.Add(new LanguageModelTrial(alpha, beta, TranscriptionMetrics.From(results)));
            }
        return [.. trials.OrderBy(t => t.Metrics.WordErrorRate).ThenBy(t => t.Metrics.CharacterErrorRate)];
    }
}
