using Wav2Vec2.Decoding;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>Options of <see cref="Wav2Vec2TransformsCatalog.Wav2Vec2Transcribe(Microsoft.ML.TransformsCatalog, Wav2Vec2TranscribeOptions)"/>.</summary>
/// <example><code>
/// var transcribe = mlContext.Transforms.Wav2Vec2Transcribe(new Wav2Vec2TranscribeOptions
/// {
///     ModelDirectory = "wav2vec2-base-960h", InputColumnName = "Path", AudioFolder = "clips", OutputColumnName = "Text",
/// });
/// </code></example>
public sealed class Wav2Vec2TranscribeOptions : Wav2Vec2TransformOptions
{
    /// <summary>Creates options with the output column "Transcript".</summary>
    /// <example><code>
    /// var options = new Wav2Vec2TranscribeOptions { ModelDirectory = "model", InputColumnName = "Audio" };
    /// </code></example>
    public Wav2Vec2TranscribeOptions() : base("Transcript")
    {
    }

    /// <summary>An in-memory CTC model (with its <see cref="Wav2Vec2ForCtc.Tokenizer"/>) instead of a directory.</summary>
    public Wav2Vec2ForCtc? Model { get; set; }

    /// <summary>The decoder (default greedy).</summary>
    public CtcDecoderSettings Decoding { get; set; } = new();

    /// <summary>The language of a multilingual MMS model given by <see cref="Wav2Vec2TransformOptions.ModelDirectory"/>
    /// (its adapters, head and vocabulary; e.g. "fra"); required for such a model.</summary>
    public string? Language { get; set; }

    /// <summary>Also add each word and its start and end in seconds (Hugging Face's word timestamps, see
    /// <see cref="TimedTranscript"/>) as the columns <see cref="WordsColumnName"/>, <see cref="WordStartsColumnName"/> and
    /// <see cref="WordEndsColumnName"/>.</summary>
    public bool WordTimes { get; set; }

    /// <summary>The words column (a vector of Text) when <see cref="WordTimes"/>.</summary>
    public string WordsColumnName { get; set; } = "Words";

    /// <summary>The word starts column (a vector of Single, seconds) when <see cref="WordTimes"/>.</summary>
    public string WordStartsColumnName { get; set; } = "WordStarts";

    /// <summary>The word ends column (a vector of Single, seconds) when <see cref="WordTimes"/>.</summary>
    public string WordEndsColumnName { get; set; } = "WordEnds";

    /// <summary>The word columns, when asked for.</summary>
    internal Internal.WordTimeColumns? WordTimeColumns() =>
        WordTimes ? new Internal.WordTimeColumns(WordsColumnName, WordStartsColumnName, WordEndsColumnName) : null;

    internal void Validate()
    {
        ValidateCommon(Model != null);
        ArgumentNullException.ThrowIfNull(Decoding);
        if (WordTimes)
            ValidateColumnNames(WordsColumnName, WordStartsColumnName, WordEndsColumnName);
    }
}
