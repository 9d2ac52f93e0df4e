using System.Text.Json.Serialization;
using Wav2Vec2.Models;
using Wav2Vec2.Decoding;

namespace Wav2Vec2.MLNet;

/// <summary>
/// How <see cref="Wav2Vec2TranscribeTransformer"/> turns CTC logits into text: the extension point for decoders.
/// <see cref="GreedyCtcDecoding"/> is the one decoder today; a beam-search decoder with an n-gram language model is
/// meant to be another derived record (registered below for SaveWav2Vec2, its files stored in the model zip).
/// </summary>
/// <example><code>
/// var options = new Wav2Vec2TranscribeOptions { ModelDirectory = "wav2vec2-base-960h", Decoding = new GreedyCtcDecoding() };
/// </code></example>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(GreedyCtcDecoding), "greedy")]
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
