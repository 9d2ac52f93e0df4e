using Wav2Vec2.Models;
using Wav2Vec2.Training;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Options of <see cref="Wav2Vec2TransformsCatalog.Wav2Vec2PreTrain(Microsoft.ML.TransformsCatalog, Wav2Vec2PreTrainingOptions)"/>:
/// what to pre-train (a preset architecture, a config or an initial model directory), the recipe (a preset's, or a
/// complete <see cref="PreTrainingOptions"/>, with the shared overrides of <see cref="Wav2Vec2TrainingOptions"/>),
/// validation (an IDataView or a fraction of the rows), and the features the returned transformer computes.
/// </summary>
/// <example><code>
/// var preTrain = mlContext.Transforms.Wav2Vec2PreTrain(new Wav2Vec2PreTrainingOptions
/// {
///     Preset = "tiny", MaxUpdates = 2000, AudioColumnName = "Path", AudioFolder = "clips", OutputDirectory = "pretrain-run",
///     ValidationFraction = 0.05, Layers = [2], Pooling = Wav2Vec2Pooling.MeanAndStd,
/// });
/// </code></example>
public sealed class Wav2Vec2PreTrainingOptions : Wav2Vec2TrainingOptions
{
    /// <summary>The features column of the returned transformer.</summary>
    public string OutputColumnName { get; set; } = "Features";

    /// <summary>
    /// The recipe ("base", "large" or "tiny", see <see cref="PreTrainingOptions.Presets"/>) and, without
    /// <see cref="Config"/> or a starting model, the architecture. Null: "large" for a layer-norm
    /// architecture, else "base". "tiny"'s warm-up and temperature decay stretch with
    /// <see cref="Wav2Vec2TrainingOptions.MaxUpdates"/>.
    /// </summary>
    public string? Preset { get; set; }

    /// <summary>The architecture to pre-train from scratch (its training settings are ignored: the recipe's apply).</summary>
    public Wav2Vec2Config? Config { get; set; }

    /// <summary>A complete recipe instead of the preset's (the shared overrides still apply).</summary>
    public PreTrainingOptions? Recipe { get; set; }

    /// <summary>Rows set aside for validation when <see cref="Wav2Vec2TrainingOptions.ValidationData"/> is not given
    /// (chosen with the seed), in [0, 0.5].</summary>
    public double ValidationFraction { get; set; }

    /// <summary>Layers of the returned features transformer (see <see cref="Wav2Vec2FeaturesOptions.Layers"/>).</summary>
    public int[] Layers { get; set; } = [-1];

    /// <summary>Pooling of the returned features transformer.</summary>
    public Wav2Vec2Pooling Pooling { get; set; } = Wav2Vec2Pooling.Mean;

    /// <summary>The architecture: <see cref="Config"/>, else the starting model's, else the preset's.</summary>
    internal Wav2Vec2Config Architecture() => PreTrainer.Architecture(Config ?? Model?.Config, ModelDirectory, Preset);

    /// <summary>The recipe with the overrides applied.</summary>
    internal PreTrainingOptions ResolveRecipe(Wav2Vec2Config architecture) =>
        Overrides().ApplyTo(Recipe ?? PreTrainingOptions.Presets[Preset ?? PreTrainingOptions.PresetFor(architecture)]);

    internal void Validate()
    {
        ValidateCommon(modelRequired: false, (nameof(OutputColumnName), OutputColumnName));
        if (Preset == null && Config == null && ModelDirectory == null && Model == null)
            throw new ArgumentException("set Preset, Config, ModelDirectory or Model (the architecture to pre-train)", nameof(Preset));
        if (Preset != null && !PreTrainingOptions.Presets.ContainsKey(Preset))
            throw new ArgumentException($"Preset must be one of {string.Join(", ", PreTrainingOptions.Presets.Keys)}, got '{Preset}'", nameof(Preset));
        if (ValidationFraction is < 0 or > 0.5 || double.IsNaN(ValidationFraction))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in [0, 0.5]");
        if (ValidationFraction > 0 && ValidationData != null)
            throw new ArgumentException("give ValidationData or ValidationFraction, not both", nameof(ValidationFraction));
        if (Layers == null || Layers.Length == 0 || Layers.Distinct().Count() != Layers.Length)
            throw new ArgumentException("Layers must name at least one layer, each once", nameof(Layers));
    }
}
