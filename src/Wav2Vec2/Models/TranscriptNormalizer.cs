using System.Text;

namespace Wav2Vec2.Models;

/// <summary>The letter case a vocabulary spells in.</summary>
public enum LetterCase
{
    /// <summary>Upper case (facebook/wav2vec2-base-960h, fairseq's LibriSpeech letters, vocabularies we build).</summary>
    Upper,

    /// <summary>Lower case (MMS and most Common Voice fine-tunes).</summary>
    Lower,

    /// <summary>Both cases are tokens of their own: the text keeps its case.</summary>
    Keep,
}

/// <summary>
/// The one text normalisation of transcripts, applied before building a vocabulary, encoding labels and scoring
/// recognition: the vocabulary's letter case (<see cref="CtcTokenizer.Normalize"/>; invariant culture), words
/// separated by single spaces, whitespace, hyphens, dashes, slashes and underscores separating words, the punctuation
/// <c>. , ; : ! ? ¿ ¡ … " “ ” „ « » ( ) [ ] { }</c> removed, typographic apostrophes turned into "'", and every other
/// character (letters of any script, accented letters, apostrophes, digits) kept so that the vocabulary decides what
/// is allowed. "It's a well-known fact." becomes "IT'S A WELL KNOWN FACT"; « Où est-il ? » in lower case "où est il".
/// </summary>
public static class TranscriptNormalizer
{
    private const string Removed = ".,;:!?¿¡…\"“”„«»()[]{}";
    private const string Separators = "-_/–—";

    /// <summary>The normalised form of <paramref name="text"/> in <paramref name="letterCase"/>.</summary>
    public static string Normalize(string text, LetterCase letterCase = LetterCase.Upper)
    {
        var result = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char raw in text)
        {
            char c = raw is '\u2019' or '\u2018' or '`' ? '\'' : letterCase switch
            {
                LetterCase.Upper => char.ToUpperInvariant(raw),
                LetterCase.Lower => char.ToLowerInvariant(raw),
                _ => raw,
            };
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
