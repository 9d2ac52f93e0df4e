namespace Wav2Vec2.Decoding;

/// <summary>
/// One run of CTC prefix beam search (the working state of a single <see cref="CtcBeamSearchDecoder.Decode(ReadOnlySpan{float})"/>
/// call), pooled per thread so that decoding allocates nothing per frame. Per frame: log-softmax, token pruning, every
/// beam extended by every kept token with the blank and non-blank probabilities kept apart in log space (a repeated
/// token needs a blank between), candidates of the same prefix merged, then threshold and width pruning on
/// acoustic + LM + bonus. Words are scored by the LM when the delimiter follows them (and at the end).
/// </summary>
internal sealed partial class BeamSearch
{
    private const int MaxPooledNodes = 1 << 18;   // 16 MB of nodes: a search that grew beyond is not kept for reuse
    [ThreadStatic] private static BeamSearch? t_cached;

    private PrefixNode[] _nodes = new PrefixNode[1024];
    private int _nodeCount;
    private LanguageModelState[] _states = new LanguageModelState[256];
    private int _stateCount;
    private Beam[] _beams = new Beam[128], _nextBeams = new Beam[128];
    private int _beamCount;
    private Beam[] _slots = new Beam[1024];        // this frame's candidates, one per prefix
    private int _slotCount;
    private PrefixNode[] _pending = new PrefixNode[1024];                  // this frame's new prefixes, not yet nodes
    private LanguageModelState[] _pendingStates = new LanguageModelState[1024];   // (pending,) LM state of a pending delimiter node
    private int _pendingCount;
    private float[] _scores = new float[1024];     // (slots,) ranking score of each candidate
    private int[] _order = new int[1024];          // (slots,) candidates that pass the threshold
    private float[] _logp = [];                    // (vocab,) this frame's log-probabilities
    private int[] _tokens = [];                    // (vocab,) this frame's tokens to try

    // The decoder's settings for this call.
    private CtcBeamSearchDecoder _decoder = null!;
    private WordModel _words = null!;
    private int _blank, _delimiter, _vocab;
    private float _lmScale, _beta;

    public static BeamSearch Rent()
    {
        BeamSearch search = t_cached ?? new BeamSearch();
        t_cached = null;
        return search;
    }

    public static void Return(BeamSearch search)
    {
        search._decoder = null!;
        search._words = null!;
        if (search._nodes.Length <= MaxPooledNodes)
            t_cached = search;
    }

    /// <summary>Decodes (frames, vocab) logits or log-probabilities.</summary>
    public List<DecodingHypothesis> Run(CtcBeamSearchDecoder decoder, ReadOnlySpan<float> logits, int frames)
    {
        Start(decoder);
        for (int t = 0; t < frames && _beamCount > 0; t++)
        {
            int tokenCount = PrepareFrame(logits.Slice(t * _vocab, _vocab), t);
            Expand(t, tokenCount);
            Prune(t);
        }
        return Finish();
    }

    private void Start(CtcBeamSearchDecoder decoder)
    {
        _decoder = decoder;
        _words = decoder.Words;
        _blank = decoder.Blank;
        _delimiter = decoder.Delimiter;
        _vocab = decoder.VocabularySize;
        _lmScale = decoder.Options.LanguageModelWeight * MathF.Log(10f);
        _beta = decoder.Options.WordInsertionBonus;
        if (_logp.Length < _vocab)
        {
            _logp = new float[_vocab];
            _tokens = new int[_vocab];
        }
        _nodeCount = _stateCount = 0;
        ILanguageModel? lm = _words.LanguageModel;
        int state = AddState(lm is null ? default : decoder.Options.ScoreSentenceBoundaries ? lm.BeginSentence() : lm.NullContext());
        int root = NewNode();
        _nodes[root] = new PrefixNode
        {
            Parent = -1, Token = _delimiter, FirstChild = -1, NextSibling = -1, Spelling = SpellingTrie.Root,
            LmState = state, Word = -1, ActiveFrame = -1, CandidateFrame = -1,
        };
        _beams[0] = new Beam { Node = root, Blank = 0f, NonBlank = float.NegativeInfinity };
        _beamCount = 1;
    }

    /// <summary>Log-softmax of one frame into _logp and the tokens worth trying into _tokens; returns their count.</summary>
    private int PrepareFrame(ReadOnlySpan<float> row, int t)
    {
        float max = float.NegativeInfinity;
        foreach (float value in row)
        {
            if (float.IsNaN(value) || float.IsPositiveInfinity(value))
                throw new ArgumentException($"logits: frame {t} holds {value}", "logits");
            max = Math.Max(max, value);
        }
        if (float.IsNegativeInfinity(max))
            throw new ArgumentException($"logits: every value of frame {t} is -infinity", "logits");
        float sum = 0f;
        foreach (float value in row)
            sum += MathF.Exp(value - max);
        float logSum = max + MathF.Log(sum);
        BeamSearchOptions options = _decoder.Options;
        bool[] emittable = _decoder.Emittable;
        int count = 0, best = -1;
        for (int k = 0; k < _vocab; k++)
        {
            float lp = _logp[k] = row[k] - logSum;
            if (!emittable[k] || float.IsNegativeInfinity(lp))
                continue;
            if (best < 0 || lp > _logp[best])
                best = k;
            if (lp >= options.MinTokenLogProbability)
                _tokens[count++] = k;
        }
        if (count == 0)
        {
            // The best token passes whenever any does; when none does it is tried alone.
            if (best < 0)
                return 0;
            _tokens[count++] = best;
        }
        if (count > 1 && (options.TokenTopK < count || options.TokenCumulativeProbability < 1f))
        {
            for (int i = 1; i < count; i++)   // insertion sort, most probable first: the vocabulary is small
            {
                int token = _tokens[i], j = i - 1;
                for (; j >= 0 && _logp[_tokens[j]] < _logp[token]; j--)
                    _tokens[j + 1] = _tokens[j];
                _tokens[j + 1] = token;
            }
            count = Math.Min(count, options.TokenTopK);
            float mass = 0f;
            for (int i = 0; i < count && options.TokenCumulativeProbability < 1f; i++)
                if ((mass += MathF.Exp(_logp[_tokens[i]])) >= options.TokenCumulativeProbability)
                    count = i + 1;
        }
        return count;
    }

    /// <summary>Every beam by every token: the candidates of frame <paramref name="t"/>.</summary>
    private void Expand(int t, int tokenCount)
    {
        _slotCount = _pendingCount = 0;
        for (int b = 0; b < _beamCount; b++)
        {
            Beam beam = _beams[b];
            int node = beam.Node;
            int last = _nodes[node].Token;
            float total = LogAdd(beam.Blank, beam.NonBlank);
            for (int i = 0; i < tokenCount; i++)
            {
                int token = _tokens[i];
                float lp = _logp[token];
                if (token == _blank)
                    Add(node, t, total + lp, float.NegativeInfinity);
                else if (token == last)
                {
                    Add(node, t, float.NegativeInfinity, beam.NonBlank + lp);     // a repeat collapses into the same token
                    // After a blank the token is emitted again; a second delimiter adds no text, so stays here.
                    if (token == _delimiter)
                        Add(node, t, float.NegativeInfinity, beam.Blank + lp);
                    else
                        Extend(node, token, t, beam.Blank + lp);
                }
                else
                    Extend(node, token, t, total + lp);
            }
        }
    }

    /// <summary>Adds probability to the candidate of node <paramref name="node"/> at frame <paramref name="t"/>.</summary>
    private void Add(int node, int t, float blank, float nonBlank)
    {
        ref PrefixNode prefix = ref _nodes[node];
        if (prefix.CandidateFrame != t)
        {
            prefix.CandidateFrame = t;
            prefix.CandidateSlot = AddSlot(node, blank, nonBlank);
            return;
        }
        ref Beam slot = ref _slots[prefix.CandidateSlot];
        slot.Blank = LogAdd(slot.Blank, blank);
        slot.NonBlank = LogAdd(slot.NonBlank, nonBlank);
    }

    /// <summary>A new candidate; <paramref name="node"/> is a node id, or -1 - p for pending node p.</summary>
    private int AddSlot(int node, float blank, float nonBlank)
    {
        if (_slotCount == _slots.Length)
            Array.Resize(ref _slots, _slots.Length * 2);
        _slots[_slotCount] = new Beam { Node = node, Blank = blank, NonBlank = nonBlank };
        return _slotCount++;
    }

    /// <summary>Keeps the candidates within the threshold of the best, at most the beam width, as the next beams.</summary>
    private void Prune(int t)
    {
        if (_scores.Length < _slotCount)
        {
            _scores = new float[_slots.Length];
            _order = new int[_slots.Length];
        }
        float best = float.NegativeInfinity;
        for (int i = 0; i < _slotCount; i++)
        {
            ref Beam slot = ref _slots[i];
            float bonus = slot.Node >= 0 ? _nodes[slot.Node].Bonus : _pending[-1 - slot.Node].Bonus;
            float score = LogAdd(slot.Blank, slot.NonBlank) + bonus;
            _scores[i] = score;
            best = Math.Max(best, score);
        }
        float threshold = best - _decoder.Options.BeamThreshold;
        int kept = 0;
        for (int i = 0; i < _slotCount; i++)
            if (_scores[i] >= threshold && !float.IsNegativeInfinity(_scores[i]))
                _order[kept++] = i;
        int width = _decoder.Options.BeamWidth;
        if (kept > width)
        {
            SelectTop(_order.AsSpan(0, kept), _scores, width);
            kept = width;
        }
        if (_nextBeams.Length < kept)
            _nextBeams = new Beam[Math.Max(kept, 2 * _nextBeams.Length)];
        for (int i = 0; i < kept; i++)
        {
            Beam beam = _slots[_order[i]];
            if (beam.Node < 0)
                beam.Node = Materialize(-1 - beam.Node);
            _nextBeams[i] = beam;
            _nodes[beam.Node].ActiveFrame = t;
        }
        (_beams, _nextBeams) = (_nextBeams, _beams);
        _beamCount = kept;
    }

    /// <summary>Rearranges <paramref name="items"/> so that its first <paramref name="k"/> have the highest scores (quickselect).</summary>
    internal static void SelectTop(Span<int> items, float[] scores, int k)
    {
        int lo = 0, hi = items.Length - 1;
        while (lo < hi)
        {
            float pivot = scores[items[lo + (hi - lo) / 2]];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (scores[items[i]] > pivot)
                    i++;
                while (scores[items[j]] < pivot)
                    j--;
                if (i <= j)
                {
                    (items[i], items[j]) = (items[j], items[i]);
                    i++;
                    j--;
                }
            }
            // Now items[lo..j] score >= pivot and items[i..hi] score <= pivot; continue on the side holding index k - 1.
            if (k - 1 <= j)
                hi = j;
            else if (k - 1 >= i)
                lo = i;
            else
                break;
        }
    }

    /// <summary>log(e^a + e^b) without overflow; -infinity is the identity.</summary>
    internal static float LogAdd(float a, float b)
    {
        if (a < b)
            (a, b) = (b, a);
        return float.IsNegativeInfinity(b) ? a : a + MathF.Log(1f + MathF.Exp(b - a));
    }
}
