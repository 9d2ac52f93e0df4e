using System.Numerics.Tensors;
using System.Text;
using Wav2Vec2.Models;

namespace Wav2Vec2.Decoding;

/// <summary>
/// Greedy (best path) CTC decoding: the most likely token of every frame, then repeats merged, blanks (the pad token)
/// and special tokens dropped, and the word delimiter turned into a space (Hugging Face's Wav2Vec2CTCTokenizer.decode:
/// repeats are merged before blanks are removed, so a blank separates a doubled letter). Thread-safe.
/// </summary>
/// <example><code>
/// var decoder = new GreedyCtcDecoder(CtcTokenizer.Load("model"));
/// string text = decoder.Decode(logits.Span, logits.Size(0));
/// </code></example>
public sealed class GreedyCtcDecoder(CtcTokenizer tokenizer) : ICtcDecoder
{
    /// <summary>The vocabulary.</summary>
    public CtcTokenizer Tokenizer { get; } = tokenizer;

    /// <inheritdoc/>
    public string Decode(ReadOnlySpan<float> logits, int frames) => Collapse(BestPath(logits, frames));

    /// <summary>
    /// The transcript and the times of its words and tokens on the best path, exactly as Hugging Face's
    /// Wav2Vec2CTCTokenizer computes char and word offsets from the argmax ids (a token's end is one past its last
    /// frame; a word runs from its first token's start to its last token's end).
    /// </summary>
    /// <example><code>
    /// TimedTranscript timed = new GreedyCtcDecoder(tokenizer).DecodeWithTimestamps(logits.Span, logits.Size(0), 320 / 16000.0);
    /// </code></example>
    public TimedTranscript DecodeWithTimestamps(ReadOnlySpan<float> logits, int frames, double secondsPerFrame) =>
        TimedTranscript.FromTokenPath(BestPath(logits, frames), TimedTranscript.LogSoftmax(logits, Tokenizer.Count), Tokenizer, secondsPerFrame);

    /// <summary>The argmax token of each frame.</summary>
    internal int[] BestPath(ReadOnlySpan<float> logits, int frames)
    {
        int vocab = Tokenizer.Count;
        if (logits.Length != frames * vocab)
            throw new ArgumentException($"logits hold {logits.Length} values, not {frames} frames x {vocab} tokens");
        var ids = new int[frames];
        for (int t = 0; t < frames; t++)
            ids[t] = TensorPrimitives.IndexOfMax(logits.Slice(t * vocab, vocab));
        return ids;
    }

    /// <summary>The text of per-frame token ids: repeats merged, blanks and special tokens dropped, delimiter to space.</summary>
    public string Collapse(ReadOnlySpan<int> frameIds)
    {
        var text = new StringBuilder();
        int previous = -1;
        foreach (int id in frameIds)
        {
            if (id != previous && !Tokenizer.IsSpecial(id))
            {
                string token = Tokenizer.Token(id);
                text.Append(token == Tokenizer.WordDelimiter ? " " : token);
            }
            previous = id;
        }
        return string.Join(' ', text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
