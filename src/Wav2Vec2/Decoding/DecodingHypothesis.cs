namespace Wav2Vec2.Decoding;

/// <summary>
/// One transcript found by <see cref="CtcBeamSearchDecoder"/>, with the parts of its score:
/// <see cref="Score"/> = <see cref="AcousticScore"/> + alpha · ln(10) · <see cref="LanguageModelScore"/> + beta · word count.
/// Word and token times come from <see cref="CtcBeamSearchDecoder.DecodeWithTimestamps"/>.
/// </summary>
/// <param name="Text">The words separated by single spaces.</param>
/// <param name="Score">Total ranking score (natural log units).</param>
/// <param name="AcousticScore">Natural-log CTC probability of the transcript, summed over its alignments and spellings.</param>
/// <param name="LanguageModelScore">log10 LM score of the words and the end of the sentence, unknown-word scores
/// included (0 without a language model).</param>
public sealed record DecodingHypothesis(string Text, float Score, float AcousticScore, float LanguageModelScore)
{
    /// <summary>The emitted tokens, delimiters included, in order.</summary>
    internal int[] TokenIds { get; init; } = [];
}
