using System.Text.Json;

namespace Wav2Vec2.Audio;

/// <summary>
/// Turns recordings into a model's input values (Hugging Face's <c>input_values</c>), as the model's
/// preprocessor_config.json (Wav2Vec2FeatureExtractor) says: read (any format AudioFile reads), mix down, resample to the model's rate,
/// and normalise each utterance to zero mean and unit variance when configured. Inference, training, the command line
/// and the ML.NET transforms all prepare audio through this one type.
/// </summary>
/// <example><code>
/// var preprocessor = InputValuesPreprocessor.Load("model/preprocessor_config.json");
/// float[] inputValues = preprocessor.Prepare("speech.flac");
/// </code></example>
public sealed record InputValuesPreprocessor
{
    /// <summary>
    /// Epsilon of inference-time normalisation: Hugging Face's Wav2Vec2FeatureExtractor, (x - mean) / sqrt(var + 1e-7).
    /// </summary>
    public const double InferenceEpsilon = 1e-7;

    /// <summary>
    /// Epsilon of training-time normalisation: fairseq's layer norm over the whole utterance (before any crop), 1e-5.
    /// </summary>
    public const double TrainingEpsilon = 1e-5;

    /// <summary>Normalise each utterance to zero mean and unit variance over its unpadded samples.</summary>
    public bool DoNormalize { get; init; } = true;

    /// <summary>The model's input rate (16 kHz for every published wav2vec 2.0 model).</summary>
    public int SamplingRate { get; init; } = 16000;

    /// <summary>Value of padded samples.</summary>
    public float PaddingValue { get; init; }

    /// <summary>Whether the model expects an attention mask for padded batches (true for layer-norm encoders).</summary>
    public bool ReturnAttentionMask { get; init; }

    /// <summary>Reads preprocessor_config.json, or returns the defaults when the file does not exist.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid preprocessor config.</exception>
    public static InputValuesPreprocessor Load(string path)
    {
        if (!File.Exists(path))
            return new InputValuesPreprocessor();
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = document.RootElement;
            var defaults = new InputValuesPreprocessor();
            return new InputValuesPreprocessor
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

    /// <summary>The input values of an audio file (see <see cref="AudioFile.Read(string)"/>).</summary>
    public float[] Prepare(string path) => Prepare(AudioFile.Read(path));

    /// <summary>The input values of <paramref name="audio"/>: resampled to <see cref="SamplingRate"/>, then normalised if configured.</summary>
    public float[] Prepare(AudioClip audio) => Normalize(Resample(audio).Samples);

    /// <summary><paramref name="audio"/> at the model's rate, not normalised (training crops before normalising).</summary>
    public AudioClip Resample(AudioClip audio) => audio.ResampleTo(SamplingRate);

    /// <summary>
    /// A normalised copy of <paramref name="samples"/> (already at the model's rate) when <see cref="DoNormalize"/> is
    /// set, else a plain copy: zero mean, unit variance, (x - mean) / sqrt(var + epsilon), statistics in double.
    /// </summary>
    public float[] Normalize(ReadOnlySpan<float> samples, double epsilon = InferenceEpsilon)
    {
        var values = samples.ToArray();
        Input(values, epsilon).CopyTo(0, values);   // in place: each value is read before it is written
        return values;
    }

    /// <summary>
    /// <paramref name="audio"/> as the model reads it, normalisation left to be applied window by window (inference
    /// on long recordings).
    /// </summary>
    internal ModelInput PrepareInput(AudioClip audio) => Input(Resample(audio).Samples, InferenceEpsilon);

    private ModelInput Input(float[] samples, double epsilon)
    {
        if (!DoNormalize)
            return ModelInput.Ready(samples);
        double mean = 0, variance = 0;
        foreach (float v in samples)
            mean += v;
        mean /= Math.Max(1, samples.Length);
        foreach (float v in samples)
            variance += (v - mean) * (v - mean);
        variance /= Math.Max(1, samples.Length);
        return ModelInput.Normalized(samples, mean, 1 / Math.Sqrt(variance + epsilon));
    }
}
