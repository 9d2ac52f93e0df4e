using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet;

/// <summary>
/// What the two fine-tuning trainers share (<see cref="Wav2Vec2CtcTrainerOptions"/>, <see cref="Wav2Vec2AudioClassificationOptions"/>)
/// besides <see cref="Wav2Vec2TrainingOptions"/>: the pre-trained model to start from, a directory or an in-memory
/// backbone.
/// </summary>
/// <example><code>
/// Wav2Vec2FeaturesTransformer preTrained = mlContext.Transforms.Wav2Vec2PreTrain("Features", "Path", audioFolder: "clips").Fit(unlabeled);
/// var options = new Wav2Vec2CtcTrainerOptions { PretrainedModel = preTrained.Model, AudioColumnName = "Path", AudioFolder = "clips" };
/// </code></example>
public abstract class Wav2Vec2FineTuningOptions : Wav2Vec2TrainingOptions
{
    private protected Wav2Vec2FineTuningOptions()
    {
    }

    /// <summary>A Hugging Face directory of the model to fine-tune (a backbone, pre-training or task checkpoint; other
    /// heads are ignored and reported in mlContext.Log).</summary>
    public string? PretrainedModelDirectory { get; set; }

    /// <summary>An in-memory backbone instead of <see cref="PretrainedModelDirectory"/>, such as the
    /// <see cref="Wav2Vec2FeaturesTransformer.Model"/> of a Wav2Vec2PreTrain Fit (it is copied, not changed).</summary>
    public Wav2Vec2Model? PretrainedModel { get; set; }

    /// <summary>Checks the shared settings and that exactly one pre-trained model is given.</summary>
    private protected void ValidateFineTuning(params (string Name, string? Value)[] columns)
    {
        ValidateCommon();
        foreach (var (name, value) in columns)
            if (string.IsNullOrWhiteSpace(value))
                throw new ArgumentException($"{name} is needed", name);
        if ((PretrainedModelDirectory == null) == (PretrainedModel == null))
            throw new ArgumentException("set PretrainedModelDirectory or PretrainedModel (one of them)", nameof(PretrainedModelDirectory));
        if (PretrainedModelDirectory != null && !Directory.Exists(PretrainedModelDirectory))
            throw new DirectoryNotFoundException($"pre-trained model directory '{PretrainedModelDirectory}' does not exist");
    }

    /// <summary>Where the model came from, for messages.</summary>
    internal string Source => PretrainedModelDirectory ?? "the given model";
}
