using Wav2Vec2.MLNet.Internal;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>
/// The fitted form of <see cref="Wav2Vec2FeaturesEstimator"/>: wav2vec 2.0 hidden states of an audio column, pooled into
/// known-size vectors with slot names (or every frame with <see cref="Wav2Vec2Pooling.None"/>).
/// </summary>
/// <example><code>
/// Wav2Vec2FeaturesTransformer features = mlContext.Transforms.Wav2Vec2Features("Features", "Audio", "model").Fit(data);
/// Console.WriteLine(string.Join(", ", features.Layers));
/// </code></example>
public sealed class Wav2Vec2FeaturesTransformer : AudioTransformerBase
{
    internal Wav2Vec2FeaturesTransformer(FeaturesMapper mapper) : base(mapper)
    {
    }

    internal FeaturesMapper Features => (FeaturesMapper)Mapper;

    /// <summary>The model (shared by every cursor and by other transformers fitted by the same estimator).</summary>
    public Wav2Vec2Model Model => Features.Model;

    /// <summary>The hidden-state indices read, resolved (-1 is num_hidden_layers), in request order.</summary>
    public IReadOnlyList<int> Layers => Features.Layers;

    /// <summary>How frames are pooled.</summary>
    public Wav2Vec2Pooling Pooling => Features.Settings.Pooling;
}
