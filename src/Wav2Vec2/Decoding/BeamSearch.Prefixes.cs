using System.Text;

namespace Wav2Vec2.Decoding;

/// <summary>The prefix trie of the beam search (children, word completion, LM states) and the final hypotheses.</summary>
internal sealed partial class BeamSearch
{
    private readonly List<int> _path = [];
    private readonly StringBuilder _text = new();

    /// <summary>
    /// Adds <paramref name="nonBlank"/> to the prefix <paramref name="parent"/> + <paramref name="token"/> (a character,
    /// or the delimiter after a character): to its node if the prefix is in the beam or may come back, otherwise to a
    /// proposed prefix that becomes a node only if it survives pruning (most candidates do not).
    /// </summary>
    private void Extend(int parent, int token, int t, float nonBlank)
    {
        for (int c = _nodes[parent].FirstChild; c >= 0; c = _nodes[c].NextSibling)
        {
            ref PrefixNode child = ref _nodes[c];
            if (child.Token != token)
                continue;
            if (child.ActiveFrame != t - 1 && child.CandidateFrame != t && child.FirstChild >= 0)
                break;   // it left the beam and has descendants: a fresh prefix instead
            Add(c, t, float.NegativeInfinity, nonBlank);
            return;
        }
        Propose(parent, token, t, nonBlank);
    }

    /// <summary>A new prefix as a candidate of this frame (a pending node), unless the lexicon forbids it.</summary>
    private void Propose(int parent, int token, int t, float nonBlank)
    {
        ref PrefixNode from = ref _nodes[parent];
        int spelling, lmState = from.LmState, words = from.Words, word = -1;
        float lmScore = from.LmScore;
        LanguageModelState next = default;
        if (token == _delimiter)
        {
            if (!_words.CanEndWord(from.Spelling))
                return;
            lmScore += _words.CompleteWord(_states[from.LmState], from.Spelling, out next, out word);
            lmState = -1;   // the pending state, stored beside the pending node
            words++;
            spelling = SpellingTrie.Root;
        }
        else if ((spelling = _words.Advance(from.Spelling, token)) == WordModel.Forbidden)
            return;
        if (_pendingCount == _pending.Length)
        {
            Array.Resize(ref _pending, _pending.Length * 2);
            Array.Resize(ref _pendingStates, _pending.Length);
        }
        int p = _pendingCount++;
        _pendingStates[p] = next;
        _pending[p] = new PrefixNode
        {
            Parent = parent, Token = token, FirstChild = -1, Spelling = spelling, LmState = lmState, Words = words,
            Word = word, LmScore = lmScore, Bonus = Bonus(lmScore, words, spelling), ActiveFrame = -2, CandidateFrame = -1,
        };
        AddSlot(-1 - p, float.NegativeInfinity, nonBlank);
    }

    /// <summary>Turns pending node <paramref name="p"/> (it survived pruning) into a node of the trie.</summary>
    private int Materialize(int p)
    {
        PrefixNode node = _pending[p];
        if (node.LmState < 0)
            node.LmState = AddState(_pendingStates[p]);
        int n = NewNode();
        node.NextSibling = _nodes[node.Parent].FirstChild;
        _nodes[node.Parent].FirstChild = n;
        _nodes[n] = node;
        return n;
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

    /// <summary>A finished beam: its transcript and score parts (its tokens are read back only for the N best).</summary>
    private record struct Finished(string Text, int Node, int LastWord, float Acoustic, float LmScore, int Words, float Score);

    /// <summary>Completes each beam's last word, adds the end of sentence, merges equal transcripts, ranks them.</summary>
    private List<DecodingHypothesis> Finish()
    {
        var finished = new List<Finished>(_beamCount);
        var byText = new Dictionary<string, int>(StringComparer.Ordinal);
        ILanguageModel? lm = _words.LanguageModel;
        for (int b = 0; b < _beamCount; b++)
        {
            Beam beam = _beams[b];
            PrefixNode node = _nodes[beam.Node];
            float acoustic = LogAdd(beam.Blank, beam.NonBlank), lmScore = node.LmScore;
            int words = node.Words, lastWord = -1;
            LanguageModelState state = _states[node.LmState];
            if (node.Spelling != SpellingTrie.Root)
            {
                if (!_words.CanEndWord(node.Spelling))
                    continue;   // the lexicon has no word spelled so
                lmScore += _words.CompleteWord(state, node.Spelling, out state, out lastWord);
                words++;
            }
            if (lm is not null && _decoder.Options.ScoreSentenceBoundaries)
                lmScore += lm.EndSentence(state);
            Traceback(beam.Node, lastWord);
            var result = new Finished(_text.ToString(), beam.Node, lastWord, acoustic, lmScore, words, Total(acoustic, lmScore, words));
            if (byText.TryGetValue(result.Text, out int index))
            {
                // Another alignment class of the same transcript ("A B" and "A B|", other spellings): probabilities
                // add; the tokens are those of the more probable one.
                Finished other = finished[index];
                float merged = LogAdd(other.Acoustic, acoustic);
                finished[index] = (other.Score >= result.Score ? other : result) with { Acoustic = merged, Score = Total(merged, lmScore, words) };
            }
            else
            {
                byText.Add(result.Text, finished.Count);
                finished.Add(result);
            }
        }
        finished.Sort((x, y) => y.Score.CompareTo(x.Score));
        var hypotheses = new List<DecodingHypothesis>(Math.Min(_decoder.Options.NBest, finished.Count));
        for (int i = 0; i < hypotheses.Capacity; i++)
        {
            Finished f = finished[i];
            Traceback(f.Node, f.LastWord);
            hypotheses.Add(new DecodingHypothesis(f.Text, f.Score, f.Acoustic, f.LmScore) { TokenIds = _path.Select(n => _nodes[n].Token).Reverse().ToArray() });
        }
        return hypotheses;
    }

    private float Total(float acoustic, float lmScore, int words) => acoustic + _lmScale * lmScore + _beta * words;

    /// <summary>
    /// Writes the transcript of the path to <paramref name="leaf"/> into _text (and its nodes, leaf first, into _path);
    /// <paramref name="lastWord"/> is the word index chosen for a final partial word.
    /// </summary>
    private void Traceback(int leaf, int lastWord)
    {
        _path.Clear();
        for (int n = leaf; _nodes[n].Parent >= 0; n = _nodes[n].Parent)
            _path.Add(n);
        _text.Clear();
        int wordStart = 0;   // where the current word starts in _text
        for (int i = _path.Count - 1; i >= 0; i--)
        {
            ref PrefixNode node = ref _nodes[_path[i]];
            if (node.Token != _delimiter)
                _text.Append(_decoder.TokenText(node.Token));
            else
                EndWord(node.Word);
        }
        if (_nodes[leaf].Spelling != SpellingTrie.Root)
            EndWord(lastWord);
        if (_text.Length > 0)
            _text.Length--;   // the space after the last word

        void EndWord(int word)
        {
            // A lexicon word is written as the lexicon writes it; otherwise as its tokens.
            if (_words.Constrained)
            {
                _text.Length = wordStart;
                _text.Append(_words.WordText(word));
            }
            _text.Append(' ');
            wordStart = _text.Length;
        }
    }
}
