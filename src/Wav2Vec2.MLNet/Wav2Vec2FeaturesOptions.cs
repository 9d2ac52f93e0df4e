using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>Options of <see cref="Wav2Vec2TransformsCatalog.Wav2Vec2Features(Microsoft.ML.TransformsCatalog, Wav2Vec2FeaturesOptions)"/>.</summary>
/// <example><code>
/// var features = mlContext.Transforms.Wav2Vec2Features(new Wav2Vec2FeaturesOptions
/// {
///     ModelDirectory = "wav2vec2-base", InputColumnName = "Audio", OutputColumnName = "Features",
///     Layers = [6, 9, 12], AverageLayers = true, Pooling = Wav2Vec2Pooling.MeanAndStd,
/// });
/// </code></example>
public sealed class Wav2Vec2FeaturesOptions : Wav2Vec2TransformOptions
{
    /// <summary>Creates options with the output column "Features".</summary>
    /// <example><code>
    /// var options = new Wav2Vec2FeaturesOptions { ModelDirectory = "model", InputColumnName = "Audio" };
    /// </code></example>
    public Wav2Vec2FeaturesOptions() : base("Features")
    {
    }

    /// <summary>An in-memory model to use instead of <see cref="Wav2Vec2TransformOptions.ModelDirectory"/> (it is put in
    /// evaluation mode and shared, not copied; SaveWav2Vec2 stores its weights).</summary>
    public Wav2Vec2Model? Model { get; set; }

    /// <summary>
    /// Layers as Hugging Face's hidden_states: 0 is the encoder input after the positional convolution, n the output of
    /// Transformer layer n, -1 the last (negative values count from the end). Several layers come from one forward pass:
    /// one column each, named OutputColumnName + "_L" + layer (e.g. "Features_L6"), or one column when
    /// <see cref="AverageLayers"/> is set. Default: the last layer.
    /// </summary>
    public int[] Layers { get; set; } = [-1];

    /// <summary>Average the requested layers frame by frame into the one output column.</summary>
    public bool AverageLayers { get; set; }

    /// <summary>How frames become a column value (default <see cref="Wav2Vec2Pooling.Mean"/>).</summary>
    public Wav2Vec2Pooling Pooling { get; set; } = Wav2Vec2Pooling.Mean;

    /// <summary>With <see cref="Wav2Vec2Pooling.None"/>, the Int32 column holding each row's frame count
    /// (default: OutputColumnName + "FrameCount").</summary>
    public string? FrameCountColumnName { get; set; }

    internal void Validate()
    {
        ValidateCommon(Model != null);
        if (Layers == null || Layers.Length == 0)
            throw new ArgumentException("at least one layer is needed", nameof(Layers));
        if (Layers.Distinct().Count() != Layers.Length)
            throw new ArgumentException($"layers are repeated: {string.Join(", ", Layers)}", nameof(Layers));
        if (!Enum.IsDefined(Pooling))
            throw new ArgumentOutOfRangeException(nameof(Pooling), Pooling, "unknown pooling");
    }
}
