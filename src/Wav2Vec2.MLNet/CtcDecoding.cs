using System.Text.Json.Serialization;
using Wav2Vec2.Models;
using Wav2Vec2.Decoding;

namespace Wav2Vec2.MLNet;

/// <summary>
/// How <see cref="Wav2Vec2TranscribeTransformer"/> turns CTC logits into text: the extension point for decoders.
/// <see cref="GreedyCtcDecoding"/> (the default) or <see cref="BeamSearchCtcDecoding"/> (CTC beam search with an
/// optional n-gram language model and lexicon, whose files SaveWav2Vec2 stores in the model zip).
/// </summary>
/// <example><code>
/// var options = new Wav2Vec2TranscribeOptions { ModelDirectory = "wav2vec2-base-960h", Decoding = new GreedyCtcDecoding() };
/// </code></example>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(GreedyCtcDecoding), "greedy")]
[JsonDerivedType(typeof(BeamSearchCtcDecoding), "beam_search")]
public abstract record CtcDecoding
{
    private protected CtcDecoding()
    {
    }

    /// <summary>The decoder over <paramref name="tokenizer"/>'s vocabulary (built once per transform).</summary>
    internal abstract ICtcDecoder CreateDecoder(CtcTokenizer tokenizer);
}

/// <summary>Greedy CTC decoding: the best token of each frame, repeats collapsed, blanks dropped (Hugging Face's
/// Wav2Vec2CTCTokenizer.decode of the argmax).</summary>
/// <example><code>
/// var options = new Wav2Vec2TranscribeOptions { ModelDirectory = "model", Decoding = new GreedyCtcDecoding() };
/// </code></example>
public sealed record GreedyCtcDecoding : CtcDecoding
{
    internal override ICtcDecoder CreateDecoder(CtcTokenizer tokenizer) => new GreedyCtcDecoder(tokenizer);
}

/// <summary>
/// CTC beam search (<see cref="CtcBeamSearchDecoder"/>) with an optional ARPA n-gram language model and lexicon, as
/// <c>w2v2 transcribe --lm</c> decodes. The files are read when the transform is built and stored inside the zip
/// written by SaveWav2Vec2.
/// </summary>
/// <example><code>
/// var options = new Wav2Vec2TranscribeOptions
/// {
///     ModelDirectory = "model", InputColumnName = "Path", OutputColumnName = "Text",
///     Decoding = new BeamSearchCtcDecoding { LanguageModelPath = "4gram.arpa.gz", Options = new BeamSearchOptions { LanguageModelWeight = 0.8f } },
/// };
/// </code></example>
public sealed record BeamSearchCtcDecoding : CtcDecoding
{
    /// <summary>ARPA language model (plain or .gz); null: beam search without a language model.</summary>
    public string? LanguageModelPath { get; init; }

    /// <summary>Lexicon (word&lt;TAB&gt;spelling lines); null: lexicon-free.</summary>
    public string? LexiconPath { get; init; }

    /// <summary>Beam width, language-model weight, word bonus and pruning.</summary>
    public BeamSearchOptions Options { get; init; } = new();

    internal override ICtcDecoder CreateDecoder(CtcTokenizer tokenizer) =>
        new CtcDecoderSettings { LanguageModelPath = LanguageModelPath, LexiconPath = LexiconPath, BeamSearch = Options }.Create(tokenizer);
}
