using Wav2Vec2.Decoding;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>Options of <see cref="Wav2Vec2TransformsCatalog.Wav2Vec2Align(Microsoft.ML.TransformsCatalog, Wav2Vec2AlignOptions)"/>:
/// forced alignment of each row's transcript to its audio.</summary>
/// <example><code>
/// var align = mlContext.Transforms.Wav2Vec2Align(new Wav2Vec2AlignOptions
/// {
///     ModelDirectory = "wav2vec2-base-960h", InputColumnName = "Path", AudioFolder = "clips", TranscriptColumnName = "Text",
///     Alignment = new AlignmentOptions { UnknownCharacters = UnknownCharacters.Drop },
/// });   // columns Words, WordStarts, WordEnds
/// </code></example>
public sealed class Wav2Vec2AlignOptions : Wav2Vec2TransformOptions
{
    /// <summary>Creates options whose words column is "Words".</summary>
    public Wav2Vec2AlignOptions() : base("Words")
    {
    }

    /// <summary>The Text column of each row's transcript (normalised as fine-tuning normalises transcripts).</summary>
    public string TranscriptColumnName { get; set; } = "Transcript";

    /// <summary>The word starts column (a vector of Single, seconds).</summary>
    public string WordStartsColumnName { get; set; } = "WordStarts";

    /// <summary>The word ends column (a vector of Single, seconds).</summary>
    public string WordEndsColumnName { get; set; } = "WordEnds";

    /// <summary>An in-memory CTC model (with its <see cref="Wav2Vec2ForCtc.Tokenizer"/>) instead of a directory.</summary>
    public Wav2Vec2ForCtc? Model { get; set; }

    /// <summary>Unknown characters and long recordings (see <see cref="AlignmentOptions"/>). A row whose transcript cannot
    /// be aligned (empty, unknown characters, longer than the frames allow) is a bad row: it fails, or is skipped with
    /// <see cref="BadAudioHandling.Skip"/>, named with its file.</summary>
    public AlignmentOptions Alignment { get; set; } = new();

    /// <summary>The language of a multilingual MMS model given by <see cref="Wav2Vec2TransformOptions.ModelDirectory"/>
    /// (its adapters, head and vocabulary; e.g. "fra"); required for such a model.</summary>
    public string? Language { get; set; }

    internal void Validate()
    {
        ValidateCommon(Model != null);
        ArgumentNullException.ThrowIfNull(Alignment);
        if (string.IsNullOrWhiteSpace(TranscriptColumnName))
            throw new ArgumentException("a transcript column name is needed", nameof(TranscriptColumnName));
        ValidateColumnNames(WordStartsColumnName, WordEndsColumnName);
    }
}
