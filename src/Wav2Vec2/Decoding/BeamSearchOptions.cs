namespace Wav2Vec2.Decoding;

/// <summary>
/// Settings of <see cref="CtcBeamSearchDecoder"/>. A hypothesis is ranked by
/// <c>acoustic + LanguageModelWeight · ln(10) · LM + WordInsertionBonus · words</c>, where acoustic is the natural-log CTC
/// probability of its labelling (summed over alignments) and LM the log10 language-model score of its words (with
/// <see cref="UnknownWordScore"/> added per unknown word) and of the end of the sentence. Defaults follow pyctcdecode
/// where it has the setting.
/// </summary>
public sealed record BeamSearchOptions
{
    /// <summary>Hypotheses kept after each frame (pyctcdecode's beam_width, flashlight's beam_size).</summary>
    public int BeamWidth { get; init; } = 100;

    /// <summary>Language-model weight alpha (pyctcdecode's alpha; 0 decodes without the LM).</summary>
    public float LanguageModelWeight { get; init; } = 0.5f;

    /// <summary>Word insertion bonus beta, in natural log units per word (pyctcdecode's beta, flashlight's word score).</summary>
    public float WordInsertionBonus { get; init; } = 1.5f;

    /// <summary>Hypotheses scoring more than this (natural log) below the frame's best are dropped (+∞: never).</summary>
    public float BeamThreshold { get; init; } = 10f;

    /// <summary>Per frame, only the most probable tokens are tried: at most this many (flashlight's beam_size_token).</summary>
    public int TokenTopK { get; init; } = int.MaxValue;

    /// <summary>Per frame, only the most probable tokens whose probabilities add up to this are tried (1: no limit).</summary>
    public float TokenCumulativeProbability { get; init; } = 1f;

    /// <summary>Per frame, tokens of lower natural-log probability are not tried (pyctcdecode's token_min_logp).</summary>
    /// <remarks>The frame's most probable token is always tried, whatever the three token limits say.</remarks>
    public float MinTokenLogProbability { get; init; } = -5f;

    /// <summary>
    /// log10 score added to the LM score of a word the language model does not know (pyctcdecode's unk_score_offset),
    /// and, with <see cref="ScorePartialWords"/>, to a partial word that no known word starts with.
    /// </summary>
    public float UnknownWordScore { get; init; } = -10f;

    /// <summary>
    /// Rank hypotheses that end inside a word as if the word were complete, scored by the best context-free LM
    /// score among the known words it can still become (and the word bonus), so that beams in the middle of a long
    /// word are not pruned in favour of beams that have just paid for a short one. Final scores are exact either way.
    /// </summary>
    public bool ScorePartialWords { get; init; } = true;

    /// <summary>
    /// Score the transcript as a sentence: its first word after &lt;s&gt; and its end with &lt;/s&gt; (pyctcdecode's
    /// score_boundary); false scores the first word without context and the end not at all.
    /// </summary>
    public bool ScoreSentenceBoundaries { get; init; } = true;

    /// <summary>Number of distinct transcripts returned, best first.</summary>
    public int NBest { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    internal void Validate()
    {
        Require(BeamWidth >= 1, $"BeamWidth must be at least 1, got {BeamWidth}");
        Require(float.IsFinite(LanguageModelWeight), $"LanguageModelWeight (alpha) must be a finite number, got {LanguageModelWeight}");
        Require(float.IsFinite(WordInsertionBonus), $"WordInsertionBonus (beta) must be a finite number, got {WordInsertionBonus}");
        Require(BeamThreshold > 0, $"BeamThreshold must be positive (or +infinity), got {BeamThreshold}");
        Require(TokenTopK >= 1, $"TokenTopK must be at least 1, got {TokenTopK}");
        Require(TokenCumulativeProbability is > 0 and <= 1, $"TokenCumulativeProbability must be in (0, 1], got {TokenCumulativeProbability}");
        Require(!float.IsNaN(MinTokenLogProbability) && MinTokenLogProbability <= 0,
            $"MinTokenLogProbability must be <= 0 (or -infinity), got {MinTokenLogProbability}");
        Require(float.IsFinite(UnknownWordScore), $"UnknownWordScore must be a finite number, got {UnknownWordScore}");
        Require(NBest >= 1, $"NBest must be at least 1, got {NBest}");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
            throw new ArgumentException($"beam search options: {message}", "options");
    }
}
