namespace Wav2Vec2.Decoding;

/// <summary>
/// The alignment of a hypothesis to a reference (words or characters): substitutions, deletions (reference units
/// missing from the hypothesis) and insertions (extra hypothesis units), and the reference length. Counts add up over
/// utterances with <c>+</c>, so a corpus rate is total errors over total reference length.
/// </summary>
public readonly record struct EditCounts(int Substitutions, int Deletions, int Insertions, int ReferenceLength)
{
    /// <summary>Substitutions + deletions + insertions.</summary>
    public int Errors => Substitutions + Deletions + Insertions;

    /// <summary>Errors / reference length (can exceed 1); an empty reference scores 0 when the hypothesis is empty too, else 1.</summary>
    public double Rate => ReferenceLength == 0 ? (Errors == 0 ? 0 : 1) : (double)Errors / ReferenceLength;

    /// <summary>Sums the counts of two alignments.</summary>
    public static EditCounts operator +(EditCounts a, EditCounts b) => new(a.Substitutions + b.Substitutions,
        a.Deletions + b.Deletions, a.Insertions + b.Insertions, a.ReferenceLength + b.ReferenceLength);

    /// <summary>Word-level alignment of two normalised transcripts (split on spaces).</summary>
    public static EditCounts Words(string reference, string hypothesis) =>
        Align(reference.Split(' ', StringSplitOptions.RemoveEmptyEntries), hypothesis.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Character-level alignment of two normalised transcripts (spaces count as characters, as jiwer's CER).</summary>
    public static EditCounts Characters(string reference, string hypothesis) =>
        Align(reference.ToCharArray(), hypothesis.ToCharArray());

    /// <summary>
    /// Levenshtein alignment with unit costs; among alignments of minimal cost the backtrace prefers a match or
    /// substitution, then a deletion, then an insertion, so the split into the three kinds is deterministic.
    /// </summary>
    public static EditCounts Align<T>(IReadOnlyList<T> reference, IReadOnlyList<T> hypothesis) where T : IEquatable<T>
    {
        int n = reference.Count, m = hypothesis.Count;
        var cost = new int[(n + 1) * (m + 1)];   // (n + 1, m + 1): edits between prefixes
        int width = m + 1;
        for (int i = 0; i <= n; i++)
            cost[i * width] = i;
        for (int j = 0; j <= m; j++)
            cost[j] = j;
        for (int i = 1; i <= n; i++)
            for (int j = 1; j <= m; j++)
            {
                int diagonal = cost[(i - 1) * width + j - 1] + (reference[i - 1].Equals(hypothesis[j - 1]) ? 0 : 1);
                cost[i * width + j] = Math.Min(diagonal, Math.Min(cost[(i - 1) * width + j], cost[i * width + j - 1]) + 1);
            }
        int substitutions = 0, deletions = 0, insertions = 0;
        for (int i = n, j = m; i > 0 || j > 0;)
        {
            int here = cost[i * width + j];
            if (i > 0 && j > 0 && here == cost[(i - 1) * width + j - 1] + (reference[i - 1].Equals(hypothesis[j - 1]) ? 0 : 1))
            {
                if (!reference[i - 1].Equals(hypothesis[j - 1]))
                    substitutions++;
                i--;
                j--;
            }
            else if (i > 0 && here == cost[(i - 1) * width + j] + 1)
            {
                deletions++;
                i--;
            }
            else
            {
                insertions++;
                j--;
            }
        }
        return new EditCounts(substitutions, deletions, insertions, n);
    }
}
