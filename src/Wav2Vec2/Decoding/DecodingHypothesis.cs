namespace Wav2Vec2.Decoding;

/// <summary>
/// One transcript found by <see cref="CtcBeamSearchDecoder"/>, with the parts of its score:
/// <see cref="Score"/> = <see cref="AcousticScore"/> + alpha · ln(10) · <see cref="LanguageModelScore"/> + beta · word count.
/// </summary>
/// <param name="Text">The words separated by single spaces.</param>
/// <param name="Score">Total ranking score (natural log units).</param>
/// <param name="AcousticScore">Natural-log CTC probability of the transcript, summed over its alignments and spellings.</param>
/// <param name="LanguageModelScore">log10 LM score of the words and the end of the sentence, unknown-word scores
/// included (0 without a language model).</param>
/// <param name="Words">Each word with its frames.</param>
public sealed record DecodingHypothesis(string Text, float Score, float AcousticScore, float LanguageModelScore,
    IReadOnlyList<DecodedWord> Words);

/// <summary>A word of a <see cref="DecodingHypothesis"/> and where it was spoken.</summary>
/// <param name="Text">The word.</param>
/// <param name="StartFrame">First frame that emits one of its tokens.</param>
/// <param name="EndFrame">One past the last frame that emits one of its tokens.</param>
/// <param name="StartSeconds"><paramref name="StartFrame"/> × seconds per frame.</param>
/// <param name="EndSeconds"><paramref name="EndFrame"/> × seconds per frame.</param>
public readonly record struct DecodedWord(string Text, int StartFrame, int EndFrame, double StartSeconds, double EndSeconds);
