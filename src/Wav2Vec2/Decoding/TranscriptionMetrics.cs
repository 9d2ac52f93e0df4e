using Wav2Vec2.Models;

namespace Wav2Vec2.Decoding;

/// <summary>One utterance of an evaluation: normalised reference and hypothesis and their alignments.</summary>
/// <param name="Id">The recording (its file name without extension).</param>
/// <param name="Reference">The normalised reference transcript.</param>
/// <param name="Hypothesis">What the recognizer produced.</param>
/// <param name="Words">Word-level errors.</param>
/// <param name="Characters">Character-level errors.</param>
public sealed record TranscriptionResult(string Id, string Reference, string Hypothesis, EditCounts Words, EditCounts Characters)
{
    /// <summary>Scores <paramref name="hypothesis"/> against <paramref name="reference"/>, both normalised first (<see cref="TranscriptNormalizer"/>).</summary>
    public static TranscriptionResult Score(string id, string reference, string hypothesis)
    {
        string r = TranscriptNormalizer.Normalize(reference), h = TranscriptNormalizer.Normalize(hypothesis);
        return new TranscriptionResult(id, r, h, EditCounts.Words(r, h), EditCounts.Characters(r, h));
    }
}

/// <summary>
/// Corpus-level recognition metrics, in the style of ML.NET's evaluation metrics: word and character error rates
/// (total errors over total reference length, pooled over utterances) with their substitutions, deletions and
/// insertions.
/// </summary>
/// <param name="Words">Pooled word-level counts.</param>
/// <param name="Characters">Pooled character-level counts (spaces count as characters).</param>
/// <param name="Utterances">Utterances scored.</param>
public sealed record TranscriptionMetrics(EditCounts Words, EditCounts Characters, int Utterances)
{
    /// <summary>Word error rate.</summary>
    public double WordErrorRate => Words.Rate;

    /// <summary>Character error rate.</summary>
    public double CharacterErrorRate => Characters.Rate;

    /// <summary>Pools the counts of <paramref name="results"/>.</summary>
    public static TranscriptionMetrics From(IEnumerable<TranscriptionResult> results)
    {
        EditCounts words = default, characters = default;
        int count = 0;
        foreach (TranscriptionResult result in results)
        {
            words += result.Words;
            characters += result.Characters;
            count++;
        }
        return new TranscriptionMetrics(words, characters, count);
    }
}
