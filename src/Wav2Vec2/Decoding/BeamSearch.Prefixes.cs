using System.Text;

namespace Wav2Vec2.Decoding;

/// <summary>The prefix trie of the beam search (children, word completion, LM states) and the final hypotheses.</summary>
internal sealed partial class BeamSearch
{
    private readonly List<int> _path = [];
    private readonly StringBuilder _text = new();

    /// <summary>
    /// The prefix <paramref name="parent"/> + <paramref name="token"/> (a character or the delimiter after a character),
    /// found or made; -1 if the lexicon forbids it.
    /// </summary>
    private int Child(int parent, int token, int t)
    {
        for (int c = _nodes[parent].FirstChild; c >= 0; c = _nodes[c].NextSibling)
        {
            ref PrefixNode child = ref _nodes[c];
            if (child.Token != token)
                continue;
            if (child.ActiveFrame == t - 1 || child.CandidateFrame == t)
                return c;
            if (child.FirstChild >= 0)
                break;   // it left the beam and has descendants whose timings rely on it: a fresh node instead
            Enter(c, parent, t);
            return c;
        }
        return Create(parent, token, t);
    }

    private int Create(int parent, int token, int t)
    {
        PrefixNode from = _nodes[parent];
        int spelling, lmState = from.LmState, words = from.Words, word = -1;
        float lmScore = from.LmScore;
        if (token == _delimiter)
        {
            if (!_words.CanEndWord(from.Spelling))
                return -1;
            lmScore += _words.CompleteWord(_states[from.LmState], from.Spelling, out LanguageModelState next, out word);
            lmState = AddState(next);
            words++;
            spelling = SpellingTrie.Root;
        }
        else if ((spelling = _words.Advance(from.Spelling, token)) == WordModel.Forbidden)
            return -1;
        int n = NewNode();
        _nodes[n] = new PrefixNode
        {
            Parent = parent, Token = token, FirstChild = -1, NextSibling = from.FirstChild, Spelling = spelling,
            LmState = lmState, Words = words, Word = word, LmScore = lmScore, Bonus = Bonus(lmScore, words, spelling),
            ActiveFrame = -2, CandidateFrame = -1,
        };
        _nodes[parent].FirstChild = n;
        Enter(n, parent, t);
        return n;
    }

    /// <summary>Timings of a prefix entering the beam at frame <paramref name="t"/> from <paramref name="parent"/>.</summary>
    private void Enter(int n, int parent, int t)
    {
        ref PrefixNode node = ref _nodes[n];
        ref PrefixNode from = ref _nodes[parent];
        if (node.Token == _delimiter)
        {
            node.WordStart = from.WordStart;
            node.WordEnd = from.LastEmit + 1;
        }
        else
            node.WordStart = from.Spelling == SpellingTrie.Root ? t : from.WordStart;
        node.LastEmit = t;
    }

    /// <summary>The ranking term of a prefix: weighted LM score, word bonus and, for a partial word, its look-ahead.</summary>
    private float Bonus(float lmScore, int words, int spelling)
    {
        if (spelling == SpellingTrie.Root || !_decoder.Options.ScorePartialWords)
            return _lmScale * lmScore + _beta * words;
        return _lmScale * (lmScore + _words.LookAhead(spelling)) + _beta * (words + 1);
    }

    private int NewNode()
    {
        if (_nodeCount == _nodes.Length)
            Array.Resize(ref _nodes, _nodes.Length * 2);
        return _nodeCount++;
    }

    private int AddState(in LanguageModelState state)
    {
        if (_stateCount == _states.Length)
            Array.Resize(ref _states, _states.Length * 2);
        _states[_stateCount] = state;
        return _stateCount++;
    }

    /// <summary>Completes each beam's last word, adds the end of sentence, merges equal transcripts, ranks them.</summary>
    private List<DecodingHypothesis> Finish()
    {
        var hypotheses = new List<DecodingHypothesis>(_beamCount);
        var byText = new Dictionary<string, int>(StringComparer.Ordinal);
        ILanguageModel? lm = _words.LanguageModel;
        for (int b = 0; b < _beamCount; b++)
        {
            Beam beam = _beams[b];
            PrefixNode node = _nodes[beam.Node];
            float acoustic = LogAdd(beam.Blank, beam.NonBlank), lmScore = node.LmScore;
            int words = node.Words, lastWord = -1;
            LanguageModelState state = _states[node.LmState];
            bool partial = node.Spelling != SpellingTrie.Root;
            if (partial)
            {
                if (!_words.CanEndWord(node.Spelling))
                    continue;   // the lexicon has no word spelled so
                lmScore += _words.CompleteWord(state, node.Spelling, out state, out lastWord);
                words++;
            }
            if (lm is not null)
                lmScore += lm.EndSentence(state);
            var hypothesis = Traceback(beam.Node, partial, lastWord, acoustic, lmScore, words);
            if (byText.TryGetValue(hypothesis.Text, out int index))
            {
                // Another alignment class of the same transcript ("A B" and "A B|", other spellings): probabilities add.
                DecodingHypothesis other = hypotheses[index];
                DecodingHypothesis better = other.Score >= hypothesis.Score ? other : hypothesis;
                float merged = LogAdd(other.AcousticScore, acoustic);
                hypotheses[index] = better with { AcousticScore = merged, Score = Total(merged, lmScore, words) };
            }
            else
            {
                byText.Add(hypothesis.Text, hypotheses.Count);
                hypotheses.Add(hypothesis);
            }
        }
        hypotheses.Sort((x, y) => y.Score.CompareTo(x.Score));
        int count = Math.Min(_decoder.Options.NBest, hypotheses.Count);
        return hypotheses.GetRange(0, count);
    }

    private float Total(float acoustic, float lmScore, int words) => acoustic + _lmScale * lmScore + _beta * words;

    /// <summary>The transcript and word timings of the path to <paramref name="leaf"/>.</summary>
    private DecodingHypothesis Traceback(int leaf, bool partial, int lastWord, float acoustic, float lmScore, int wordCount)
    {
        _path.Clear();
        for (int n = leaf; _nodes[n].Parent >= 0; n = _nodes[n].Parent)
            _path.Add(n);
        var words = new List<DecodedWord>(wordCount);
        double seconds = _decoder.Options.SecondsPerFrame;
        _text.Clear();
        int wordStart = 0;   // where the current word starts in _text
        for (int i = _path.Count - 1; i >= 0; i--)
        {
            ref PrefixNode node = ref _nodes[_path[i]];
            if (node.Token != _delimiter)
            {
                _text.Append(_decoder.TokenText(node.Token));
                continue;
            }
            EndWord(node.Word, node.WordStart, node.WordEnd);
        }
        if (partial)
            EndWord(lastWord, _nodes[leaf].WordStart, _nodes[leaf].LastEmit + 1);
        if (_text.Length > 0 && _text[^1] == ' ')
            _text.Length--;
        return new DecodingHypothesis(_text.ToString(), Total(acoustic, lmScore, wordCount), acoustic, lmScore, words);

        void EndWord(int word, int start, int end)
        {
            // A lexicon word is written as the lexicon spells its text; otherwise as its tokens.
            if (_words.Constrained)
                _text.Length = wordStart;
            string text = _words.Constrained ? _words.WordText(word) : _text.ToString(wordStart, _text.Length - wordStart);
            if (_words.Constrained)
                _text.Append(text);
            words.Add(new DecodedWord(text, start, end, start * seconds, end * seconds));
            _text.Append(' ');
            wordStart = _text.Length;
        }
    }
}
