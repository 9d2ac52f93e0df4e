namespace Wav2Vec2.Decoding;

/// <summary>Turns the CTC logits of one utterance into text (greedy here; beam search with a language model plugs in here).</summary>
public interface ICtcDecoder
{
    /// <summary>
    /// The transcript of <paramref name="logits"/>, row-major (frames, vocab_size) scores of one utterance (logits or
    /// log-probabilities: the decoders are invariant to the per-frame normalisation).
    /// </summary>
    string Decode(ReadOnlySpan<float> logits, int frames);
}
