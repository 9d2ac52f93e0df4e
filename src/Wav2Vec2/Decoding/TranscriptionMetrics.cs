using System.Globalization;
using System.Text;
using Wav2Vec2.IO;
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

    /// <summary>
    /// Writes <paramref name="results"/> as a TSV with a header and one line per utterance (id, reference, hypothesis,
    /// word errors, reference words, substitutions, deletions, insertions, character errors, reference characters),
    /// atomically: a failed write leaves no file behind.
    /// </summary>
    /// <example><code>
    /// var (metrics, results) = recognizer.Evaluate(test);
    /// TranscriptionResult.WriteTsv("results.tsv", results);
    /// </code></example>
    public static void WriteTsv(string path, IEnumerable<TranscriptionResult> results)
    {
        var text = new StringBuilder("id\treference\thypothesis\tword_errors\treference_words\tsubstitutions\tdeletions\tinsertions\tchar_errors\treference_chars\n");
        foreach (TranscriptionResult r in results)
            text.Append(CultureInfo.InvariantCulture, $"{r.Id}\t{r.Reference}\t{r.Hypothesis}\t{r.Words.Errors}\t{r.Words.ReferenceLength}\t")
                .Append(CultureInfo.InvariantCulture, $"{r.Words.Substitutions}\t{r.Words.Deletions}\t{r.Words.Insertions}\t{r.Characters.Errors}\t{r.Characters.ReferenceLength}\n");
        AtomicFile.WriteText(path, text.ToString());
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
