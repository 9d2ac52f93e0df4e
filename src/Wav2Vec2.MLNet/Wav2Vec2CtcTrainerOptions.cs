using Wav2Vec2.Decoding;
using Wav2Vec2.Models;
using Wav2Vec2.Training;

namespace Wav2Vec2.MLNet;

/// <summary>
/// Options of <see cref="SpeechRecognitionCatalog.SpeechRecognitionTrainers.Wav2Vec2Ctc(Wav2Vec2CtcTrainerOptions)"/>:
/// the transcript column, the pre-trained model (a directory, or the model of a pre-training Fit), the recipe (a
/// fairseq preset or a complete <see cref="CtcFineTuningOptions"/>, with the shared overrides of
/// <see cref="Wav2Vec2TrainingOptions"/> and the common knobs here), the vocabulary, and the decoder of the returned
/// transcription transformer.
/// </summary>
/// <example><code>
/// var options = new Wav2Vec2CtcTrainerOptions
/// {
///     Model = preTrained.Model, AudioColumnName = "Path", AudioFolder = "clips", Preset = "tiny", MaxUpdates = 1500,
///     FreezeFineTuneUpdates = 100, ValidationData = dev, OutputDirectory = "asr-run",
/// };
/// </code></example>
public sealed class Wav2Vec2CtcTrainerOptions : Wav2Vec2TrainingOptions
{
    /// <summary>The Text column of reference transcripts (normalised as <see cref="TranscriptNormalizer"/> says).</summary>
    public string TranscriptColumnName { get; set; } = "Transcript";

    /// <summary>The Text column of the returned transformer's transcripts.</summary>
    public string OutputColumnName { get; set; } = "PredictedTranscript";

    /// <summary>fairseq's BASE recipe by amount of labeled data ("10m", "1h", "10h", "100h") or "tiny" (CPU-sized), see
    /// <see cref="CtcFineTuningOptions.Presets"/>. The default, "10m", is BASE's: 13000 updates of which the first 10000
    /// train the head alone; a small model on a CPU wants "tiny" (or its own <see cref="Recipe"/>).</summary>
    public string Preset { get; set; } = "10m";

    /// <summary>A complete recipe instead of the preset's (the overrides still apply).</summary>
    public CtcFineTuningOptions? Recipe { get; set; }

    /// <summary>Updates during which only the CTC head trains (null: the recipe's).</summary>
    public int? FreezeFineTuneUpdates { get; set; }

    /// <summary>MMS's recipe for a new language: train only the adapters and the CTC head (see
    /// <see cref="Training.CtcFineTuningOptions.AdapterLanguage"/>).</summary>
    public string? AdapterLanguage { get; set; }

    /// <summary>Probability of a frame starting a masked time span (null: the recipe's).</summary>
    public float? MaskTimeProb { get; set; }

    /// <summary>Probability of a channel starting a zeroed span (null: the recipe's).</summary>
    public float? MaskFeatureProb { get; set; }

    /// <summary>The vocabulary. Null: the checkpoint being resumed, else the pre-trained directory's vocab.json, else one
    /// built from the training transcripts (<see cref="CtcFineTuner.BuildVocabulary"/>).</summary>
    public CtcTokenizer? Vocabulary { get; set; }

    /// <summary>The decoder of the returned transformer (default greedy).</summary>
    public CtcDecoderSettings Decoding { get; set; } = new();

    /// <summary>The recipe with the overrides applied, as <c>w2v2 finetune</c> applies its flags.</summary>
    internal CtcFineTuningOptions ResolveRecipe()
    {
        CtcFineTuningOptions recipe = (Overrides() with { MaskTimeProb = MaskTimeProb, MaskFeatureProb = MaskFeatureProb })
            .ApplyTo(Recipe ?? CtcFineTuningOptions.Presets[Preset]);
        return recipe with { FreezeFineTuneUpdates = FreezeFineTuneUpdates ?? recipe.FreezeFineTuneUpdates, AdapterLanguage = AdapterLanguage };
    }

    internal void Validate()
    {
        ValidateCommon(modelRequired: true, (nameof(TranscriptColumnName), TranscriptColumnName), (nameof(OutputColumnName), OutputColumnName));
        if (Recipe == null && !CtcFineTuningOptions.Presets.ContainsKey(Preset))
            throw new ArgumentException($"Preset must be one of {string.Join(", ", CtcFineTuningOptions.Presets.Keys)}, got '{Preset}'", nameof(Preset));
        if (FreezeFineTuneUpdates < 0)
            throw new ArgumentOutOfRangeException(nameof(FreezeFineTuneUpdates), FreezeFineTuneUpdates, "FreezeFineTuneUpdates must not be negative");
        foreach (var (name, p) in new[] { (nameof(MaskTimeProb), MaskTimeProb), (nameof(MaskFeatureProb), MaskFeatureProb) })
            if (p is < 0 or > 1 || (p is float v && float.IsNaN(v)))
                throw new ArgumentOutOfRangeException(name, p, $"{name} must be in [0, 1]");
        ArgumentNullException.ThrowIfNull(Decoding);
    }
}
