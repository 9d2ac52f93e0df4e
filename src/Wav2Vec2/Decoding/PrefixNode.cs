namespace Wav2Vec2.Decoding;

/// <summary>
/// A labelling prefix of the beam search: a node of a per-call trie over emitted tokens (parent pointers, first-child /
/// next-sibling links), holding what depends only on the prefix (partial word, LM state and score, word count) and the
/// bookkeeping of the beam. A candidate prefix becomes a node only once it survives pruning. A node that has left the
/// beam is reused only if it has no children: a prefix that comes back after its descendants moved on gets a fresh node.
/// </summary>
internal struct PrefixNode
{
    /// <summary>The prefix without its last token (-1 for the root).</summary>
    public int Parent;

    /// <summary>The last token; the root holds the word delimiter (a text that starts a word is "after a delimiter").</summary>
    public int Token;

    /// <summary>Newest child, then its older siblings (-1: none).</summary>
    public int FirstChild, NextSibling;

    /// <summary>The partial word: a <see cref="SpellingTrie"/> node, <see cref="SpellingTrie.Root"/> (none) or <see cref="WordModel.Outside"/>.</summary>
    public int Spelling;

    /// <summary>Index of the LM state after the last completed word.</summary>
    public int LmState;

    /// <summary>Completed words.</summary>
    public int Words;

    /// <summary>On a delimiter node, the word index it completed (-1: unknown to lexicon and LM).</summary>
    public int Word;

    /// <summary>log10 LM score of the completed words, unknown-word scores included.</summary>
    public float LmScore;

    /// <summary>What the LM and word bonus add to the ranking score (partial-word look-ahead included).</summary>
    public float Bonus;

    /// <summary>Last frame the node was kept in the beam.</summary>
    public int ActiveFrame;

    /// <summary>Frame and slot of the node's candidate entry while a frame is being expanded.</summary>
    public int CandidateFrame, CandidateSlot;
}

/// <summary>A hypothesis in the beam: its prefix node and natural-log probabilities of ending in a blank / in its last token.</summary>
internal struct Beam
{
    public int Node;
    public float Blank, NonBlank;
}
