using System.Text;

namespace Wav2Vec2.Models;

/// <summary>
/// The one text normalisation of transcripts, applied before building a vocabulary, encoding labels and scoring
/// recognition: upper case (invariant culture), words separated by single spaces, whitespace, hyphens, slashes and
/// underscores separating words, the punctuation <c>. , ; : ! ? " ( ) [ ] { }</c> removed, typographic apostrophes
/// turned into "'", and every other character (letters, apostrophes, digits, accented letters) kept so that the
/// vocabulary decides what is allowed. "It's a well-known fact." becomes "IT'S A WELL KNOWN FACT".
/// </summary>
public static class TranscriptNormalizer
{
    private const string Removed = ".,;:!?\"()[]{}";
    private const string Separators = "-_/";

    /// <summary>The normalised form of <paramref name="text"/>.</summary>
    public static string Normalize(string text)
    {
        var result = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char raw in text)
        {
            char c = raw is '\u2019' or '\u2018' or '`' ? '\'' : char.ToUpperInvariant(raw);
            if (char.IsWhiteSpace(c) || Separators.Contains(c))
                pendingSpace = result.Length > 0;
            else if (!Removed.Contains(c))
            {
                if (pendingSpace)
                    result.Append(' ');
                pendingSpace = false;
                result.Append(c);
            }
        }
        return result.ToString();
    }
}
