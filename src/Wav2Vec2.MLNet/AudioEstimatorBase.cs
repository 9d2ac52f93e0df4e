using Microsoft.ML;
using Wav2Vec2.MLNet.Internal;

namespace Wav2Vec2.MLNet;

/// <summary>
/// What the audio estimators share: nothing is learned, so <see cref="Fit"/> checks the input column and returns a
/// transformer; the model (if any) is loaded once, on first use, and shared by every transformer this estimator fits.
/// </summary>
/// <typeparam name="TTransformer">The transformer it fits.</typeparam>
/// <example><code>
/// var estimator = mlContext.Transforms.Wav2Vec2Features("Features", "Audio", "model");
/// var transformer = estimator.Fit(data);
/// </code></example>
public abstract class AudioEstimatorBase<TTransformer> : IEstimator<TTransformer> where TTransformer : AudioTransformerBase
{
    private readonly Lazy<AudioMapper> _mapper;
    private readonly Func<AudioMapper, TTransformer> _create;

    private protected AudioEstimatorBase(Func<AudioMapper> mapper, Func<AudioMapper, TTransformer> create)
    {
        _mapper = new Lazy<AudioMapper>(mapper);
        _create = create;
    }

    internal AudioMapper Mapper => _mapper.Value;

    /// <summary>Checks the input column (missing or mistyped fails here) and returns the transformer.</summary>
    /// <example><code>
    /// var transformer = estimator.Fit(data);
    /// </code></example>
    public TTransformer Fit(IDataView input)
    {
        _mapper.Value.Bind(input.Schema);
        return _create(_mapper.Value);
    }

    /// <summary>The input shape plus the new columns, after the same checks as <see cref="Fit"/>.</summary>
    /// <example><code>
    /// SchemaShape shape = estimator.GetOutputSchema(previousEstimator.GetOutputSchema(inputShape));
    /// </code></example>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => _mapper.Value.OutputShape(inputSchema);

    /// <summary>An absolute folder, or null.</summary>
    private protected static string? FullFolder(string? folder) => string.IsNullOrEmpty(folder) ? null : Path.GetFullPath(folder);
}
