namespace Wav2Vec2.Decoding;

/// <summary>
/// A trie over word spellings in token ids (immutable, compressed-row layout): the words whose spelling ends at each
/// node, and per node the best score among the words at or below it (flashlight's "max" smearing), which rates a
/// partial word by the best word it can still become.
/// </summary>
internal sealed class SpellingTrie
{
    /// <summary>The empty spelling: no partial word.</summary>
    public const int Root = 0;

    private readonly int[] _childStart;   // (nodes + 1,) children of node n: _childToken/_childNode[_childStart[n] .. _childStart[n+1]]
    private readonly int[] _childToken;   // (nodes - 1,)
    private readonly int[] _childNode;    // (nodes - 1,)
    private readonly int[] _wordStart;    // (nodes + 1,) words ending at node n: _words[_wordStart[n] .. _wordStart[n+1]]
    private readonly int[] _words;        // (distinct spellings,)
    private readonly float[] _best;       // (nodes,) best word score at or below the node

    /// <summary>Builds the trie of <paramref name="spellings"/>, scoring each word with <paramref name="wordScore"/>.</summary>
    public SpellingTrie(IEnumerable<(int Word, int[] Tokens)> spellings, Func<int, float> wordScore)
    {
        // A growing trie keyed by (node, token), then flattened.
        var children = new Dictionary<(int Node, int Token), int>();
        var wordsAt = new List<List<int>?> { null };
        foreach ((int word, int[] tokens) in spellings)
        {
            int node = Root;
            foreach (int token in tokens)
            {
                if (!children.TryGetValue((node, token), out int child))
                {
                    children.Add((node, token), child = wordsAt.Count);
                    wordsAt.Add(null);
                }
                node = child;
            }
            List<int> list = wordsAt[node] ??= [];
            if (!list.Contains(word))
                list.Add(word);
        }
        int count = wordsAt.Count;
        _childStart = new int[count + 1];
        foreach ((int node, _) in children.Keys)
            _childStart[node + 1]++;
        for (int n = 0; n < count; n++)
            _childStart[n + 1] += _childStart[n];
        _childToken = new int[children.Count];
        _childNode = new int[children.Count];
        var fill = (int[])_childStart.Clone();
        foreach (((int node, int token), int child) in children.OrderBy(c => c.Key.Node).ThenBy(c => c.Key.Token))
        {
            _childToken[fill[node]] = token;
            _childNode[fill[node]++] = child;
        }
        _wordStart = new int[count + 1];
        for (int n = 0; n < count; n++)
            _wordStart[n + 1] = _wordStart[n] + (wordsAt[n]?.Count ?? 0);
        _words = new int[_wordStart[count]];
        for (int n = 0; n < count; n++)
            wordsAt[n]?.CopyTo(_words, _wordStart[n]);
        // Children have larger ids than their parents, so one backward pass carries the best score up.
        _best = new float[count];
        for (int n = count - 1; n >= 0; n--)
        {
            float best = float.NegativeInfinity;
            foreach (int word in Words(n))
                best = Math.Max(best, wordScore(word));
            for (int c = _childStart[n]; c < _childStart[n + 1]; c++)
                best = Math.Max(best, _best[_childNode[c]]);
            _best[n] = best;
        }
    }

    /// <summary>Number of nodes.</summary>
    public int Count => _best.Length;

    /// <summary>The node reached from <paramref name="node"/> by <paramref name="token"/>, or -1.</summary>
    public int Child(int node, int token)
    {
        for (int c = _childStart[node]; c < _childStart[node + 1]; c++)
            if (_childToken[c] == token)
                return _childNode[c];
        return -1;
    }

    /// <summary>The words spelled exactly by the path to <paramref name="node"/>.</summary>
    public ReadOnlySpan<int> Words(int node) => _words.AsSpan(_wordStart[node], _wordStart[node + 1] - _wordStart[node]);

    /// <summary>The best word score at or below <paramref name="node"/>.</summary>
    public float Best(int node) => _best[node];
}
