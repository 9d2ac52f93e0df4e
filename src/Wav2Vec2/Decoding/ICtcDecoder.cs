namespace Wav2Vec2.Decoding;

/// <summary>Turns the CTC logits of one utterance into text: greedy (<see cref="GreedyCtcDecoder"/>) or beam search with a
/// language model (<see cref="CtcBeamSearchDecoder"/>).</summary>
public interface ICtcDecoder
{
    /// <summary>
    /// The transcript of <paramref name="logits"/>, row-major (frames, vocab_size) scores of one utterance (logits or
    /// log-probabilities: the decoders are invariant to the per-frame normalisation).
    /// </summary>
    string Decode(ReadOnlySpan<float> logits, int frames);

    /// <summary>
    /// The transcript with the time of each word and token (see <see cref="TimedTranscript"/>): the greedy decoder's
    /// path is the best token of every frame; a beam-search decoder's is the most probable alignment of its best
    /// transcript (forced alignment of its tokens). <paramref name="secondsPerFrame"/> is the model's
    /// inputs_to_logits_ratio / sampling rate.
    /// </summary>
    TimedTranscript DecodeWithTimestamps(ReadOnlySpan<float> logits, int frames, double secondsPerFrame);
}
