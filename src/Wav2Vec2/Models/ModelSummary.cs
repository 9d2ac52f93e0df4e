using Wav2Vec2.IO;

namespace Wav2Vec2.Models;

/// <summary>
/// What a Hugging Face model directory holds, read without loading the weights (only the checkpoint's index of names
/// and shapes): the architecture, which head its weights carry, and its size.
/// </summary>
/// <param name="Directory">The model directory.</param>
/// <param name="Config">config.json.</param>
/// <param name="Head">The head the stored weights carry: "CTC", "sequence classification", "pre-training" or "none"
/// (a backbone).</param>
/// <param name="ParameterCount">Elements of every stored tensor.</param>
/// <param name="TensorCount">Stored tensors.</param>
/// <example><code>
/// ModelSummary summary = ModelSummary.Read("wav2vec2-base-960h");
/// Console.WriteLine($"{summary.Head} head, {summary.ParameterCount:N0} parameters, {summary.Config.NumHiddenLayers} layers");
/// </code></example>
public sealed record ModelSummary(string Directory, Wav2Vec2Config Config, string Head, long ParameterCount, int TensorCount)
{
    /// <summary>Reads <paramref name="directory"/>'s config.json and its checkpoint's index (a repo id is fetched through
    /// <see cref="IO.ModelHub"/>).</summary>
    /// <exception cref="FileNotFoundException">No config.json or no weights.</exception>
    /// <exception cref="InvalidDataException">A malformed config or checkpoint (the file is named).</exception>
    public static ModelSummary Read(string directory)
    {
        directory = PretrainedDirectory.Resolve(directory);
        (Wav2Vec2Config config, ITensorSource weights) = PretrainedDirectory.Open(directory);
        using var _ = weights;
        bool Has(string[] prefixes) => weights.Names.Any(n => prefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)));
        string head = Has(Wav2Vec2ForCtc.HeadTensorPrefixes) ? "CTC"
            : Has(Wav2Vec2ForSequenceClassification.HeadTensorPrefixes) ? "sequence classification"
            : Has(Wav2Vec2ForPreTraining.HeadTensorPrefixes) ? "pre-training" : "none";
        // An int8 weight's scales are not parameters of the model.
        string[] tensors = [.. weights.Names.Where(n => !(n.EndsWith(CheckpointLoader.ScaleSuffix, StringComparison.Ordinal)
            && weights.Names.Contains(n[..^CheckpointLoader.ScaleSuffix.Length]) && weights.IsInt8(n[..^CheckpointLoader.ScaleSuffix.Length])))];
        long parameters = tensors.Sum(n => weights.Shape(n).Aggregate(1L, (a, b) => a * b));
        return new ModelSummary(directory, config, head, parameters, tensors.Length);
    }
}
