using System.Text.Json;
using Wav2Vec2.Audio;

namespace Wav2Vec2.Models;

/// <summary>
/// preprocessor_config.json of a Hugging Face wav2vec 2.0 model (Wav2Vec2FeatureExtractor): the input sample rate and
/// whether each utterance is normalised to zero mean and unit variance before the model sees it.
/// </summary>
public sealed record FeatureExtractorConfig
{
    /// <summary>Normalise each utterance: (x - mean) / sqrt(var + 1e-7) over its unpadded samples.</summary>
    public bool DoNormalize { get; init; } = true;

    /// <summary>The model's input rate (16 kHz for every published wav2vec 2.0 model).</summary>
    public int SamplingRate { get; init; } = 16000;

    /// <summary>Value of padded samples.</summary>
    public float PaddingValue { get; init; }

    /// <summary>Whether the model expects an attention mask for padded batches (true for layer-norm encoders).</summary>
    public bool ReturnAttentionMask { get; init; }

    /// <summary>Reads preprocessor_config.json, or returns the defaults when the file does not exist.</summary>
    public static FeatureExtractorConfig Load(string path)
    {
        if (!File.Exists(path))
            return new FeatureExtractorConfig();
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = document.RootElement;
            var defaults = new FeatureExtractorConfig();
            return new FeatureExtractorConfig
            {
                DoNormalize = root.TryGetProperty("do_normalize", out JsonElement n) ? n.GetBoolean() : defaults.DoNormalize,
                SamplingRate = root.TryGetProperty("sampling_rate", out JsonElement r) ? r.GetInt32() : defaults.SamplingRate,
                PaddingValue = root.TryGetProperty("padding_value", out JsonElement p) ? p.GetSingle() : defaults.PaddingValue,
                ReturnAttentionMask = root.TryGetProperty("return_attention_mask", out JsonElement m) && m.GetBoolean(),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: invalid preprocessor config ({e.Message})");
        }
    }

    /// <summary>preprocessor_config.json text.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["do_normalize"] = DoNormalize, ["feature_extractor_type"] = "Wav2Vec2FeatureExtractor", ["feature_size"] = 1,
        ["padding_side"] = "right", ["padding_value"] = PaddingValue, ["return_attention_mask"] = ReturnAttentionMask,
        ["sampling_rate"] = SamplingRate,
    }, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>The model input for <paramref name="audio"/>: resampled to <see cref="SamplingRate"/>, then normalised if configured.</summary>
    public float[] Prepare(AudioClip audio)
    {
        float[] samples = audio.ResampleTo(SamplingRate).Samples;
        return DoNormalize ? AudioNormalization.ZeroMeanUnitVariance(samples) : samples;
    }
}
