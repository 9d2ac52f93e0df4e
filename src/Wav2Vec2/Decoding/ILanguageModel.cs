using System.Runtime.CompilerServices;

namespace Wav2Vec2.Decoding;

/// <summary>
/// A word-level language model scored word by word from a state, so that a decoder extends many hypotheses without
/// re-reading their histories. Scores are log10 probabilities (the ARPA convention). Implementations are immutable and
/// safe to call from several threads at once.
/// </summary>
public interface ILanguageModel
{
    /// <summary>The words the model knows, indexed by word id (may include &lt;s&gt;, &lt;/s&gt; and &lt;unk&gt;).</summary>
    IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Id of <paramref name="word"/>, or -1 if the model does not know it.</summary>
    int WordId(ReadOnlySpan<char> word);

    /// <summary>The state at the start of a sentence (after &lt;s&gt;).</summary>
    LanguageModelState BeginSentence();

    /// <summary>The state without any history (for context-free estimates such as partial-word look-ahead).</summary>
    LanguageModelState NullContext();

    /// <summary>
    /// log10 P(<paramref name="word"/> | <paramref name="state"/>); a word id of -1 (or any id outside the vocabulary)
    /// is the unknown word. <paramref name="next"/> is the state after the word.
    /// </summary>
    float Score(in LanguageModelState state, int word, out LanguageModelState next);

    /// <summary>log10 P(&lt;/s&gt; | <paramref name="state"/>): the cost of ending the sentence here.</summary>
    float EndSentence(in LanguageModelState state);
}

/// <summary>
/// The history a <see cref="ILanguageModel"/> needs to score the next word: a small value type, copied freely and
/// never shared, so hypotheses hold their own. Its contents belong to the model that made it.
/// </summary>
public struct LanguageModelState
{
    /// <summary>How many context entries a state holds: n-gram models up to order Capacity + 1.</summary>
    internal const int Capacity = 7;

    /// <summary>Per context length L = 1..Length: a key naming the last L words (n-gram model: their hash).</summary>
    internal ContextKeys Keys;

    /// <summary>Per context length: a weight the model attaches to it (n-gram model: its log10 back-off weight).</summary>
    internal ContextWeights Weights;

    /// <summary>Number of valid context entries.</summary>
    internal int Length;

    [InlineArray(Capacity)]
    internal struct ContextKeys
    {
        private ulong _element;
    }

    [InlineArray(Capacity)]
    internal struct ContextWeights
    {
        private float _element;
    }
}
