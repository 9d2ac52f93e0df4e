using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>What a forward pass of <see cref="Wav2Vec2Model"/> returns.</summary>
/// <param name="LastHiddenState">(batch, frames, hidden_size): the encoder output (after the final layer norm).</param>
/// <param name="ExtractFeatures">(batch, frames, conv_dim[-1]): layer-normalised conv features (the quantizer's input).</param>
/// <param name="HiddenStates">Hugging Face's hidden_states when requested: [0] is the encoder input after the positional
/// embedding, [n] the output of layer n, [num_hidden_layers] equals <paramref name="LastHiddenState"/>; else empty.</param>
/// <param name="FrameLengths">Valid frames of each utterance.</param>
/// <param name="ConvFeatures">(batch, frames, conv_dim[-1]): the conv encoder's output before the layer norm (fairseq's
/// feature penalty is its mean square).</param>
public sealed record Wav2Vec2Output(Tensor LastHiddenState, Tensor ExtractFeatures, IReadOnlyList<Tensor> HiddenStates,
    int[] FrameLengths, Tensor ConvFeatures);

/// <summary>Options of <see cref="Wav2Vec2Model.Forward"/>.</summary>
public sealed record Wav2Vec2ForwardOptions
{
    /// <summary>Valid samples of each utterance of a padded batch (null: all samples are valid).</summary>
    public int[]? SampleLengths { get; init; }

    /// <summary>Collect every hidden state (Hugging Face output_hidden_states).</summary>
    public bool OutputHiddenStates { get; init; }

    /// <summary>Stop after this many Transformer layers (0 .. num_hidden_layers): cheaper extraction of a middle layer.</summary>
    public int? StopAfterLayer { get; init; }

    /// <summary>(batch * frames) frames to replace by the learned mask embedding (pre-training / SpecAugment).</summary>
    public bool[]? MaskTimeIndices { get; init; }

    /// <summary>
    /// (batch * hidden_size) channels to zero in every frame of each utterance, after the time mask (fine-tuning's
    /// channel masking: fairseq's mask_channel_prob, Hugging Face's mask_feature_prob).
    /// </summary>
    public bool[]? MaskFeatureIndices { get; init; }

    /// <summary>
    /// Multiplies the gradient flowing into the conv feature encoder (fairseq's feature_grad_mult: 0.1 in
    /// pre-training); 0 runs the encoder without recording it at all, so it neither trains nor keeps activations.
    /// </summary>
    public float FeatureGradScale { get; init; } = 1f;

    /// <summary>
    /// Accept unequal lengths with a group-norm encoder (BASE): the group norm then sees the zero padding, as fairseq's
    /// fine-tuning does; attention, the positional convolution and the output lengths still honour the lengths.
    /// </summary>
    public bool AllowPaddedGroupNorm { get; init; }
}

/// <summary>
/// The wav2vec 2.0 backbone (Hugging Face Wav2Vec2Model): a convolutional feature encoder over raw 16 kHz audio, a
/// feature projection, a convolutional relative positional embedding and a Transformer, post-LN (BASE) or pre-LN
/// "stable layer norm" (LARGE-LV60, XLS-R). Parameter names are Hugging Face's.
/// </summary>
/// <remarks>
/// Padded batches: for layer-norm feature encoders (<c>feat_extract_norm = "layer"</c>) the sample lengths produce an
/// attention mask and a padded batch gives each utterance the result it gets alone. Group-norm encoders (BASE)
/// normalise each channel over the whole padded length and have no correct padding mask, so
/// <see cref="Forward"/> rejects unequal lengths for them: batch utterances of one length or run them one at a time.
/// </remarks>
public sealed partial class Wav2Vec2Model : Module
{
    private readonly FeatureEncoder _featureEncoder;
    private readonly FeatureProjection _featureProjection;
    private readonly TransformerEncoder _encoder;

    /// <summary>Builds a randomly initialised model (Hugging Face's initialisation scheme).</summary>
    public Wav2Vec2Model(Wav2Vec2Config config, RandomSource random)
    {
        config.Validate();
        Config = config;
        Random = random;
        _featureEncoder = AddModule("feature_extractor", new FeatureEncoder(config, random));
        _featureProjection = AddModule("feature_projection", new FeatureProjection(config, random));
        if (config.MaskTimeProb > 0 || config.MaskFeatureProb > 0)
        {
            MaskedSpecEmbed = AddParameter("masked_spec_embed", config.HiddenSize);
            for (int i = 0; i < config.HiddenSize; i++)
                MaskedSpecEmbed.Span[i] = random.NextUniform();
        }
        _encoder = AddModule("encoder", new TransformerEncoder(config, random));
    }

    /// <summary>The architecture.</summary>
    public Wav2Vec2Config Config { get; }

    /// <summary>Input preparation (sample rate, normalisation), from preprocessor_config.json.</summary>
    public InputValuesPreprocessor Preprocessor { get; set; } = new();

    /// <summary>The directory the weights were loaded from (null for a model built in memory), named in errors.</summary>
    internal string? SourceDirectory { get; set; }

    /// <summary>
    /// Loads the backbone from a Hugging Face model directory (or a repo id such as "facebook/wav2vec2-base", fetched
    /// through the hub cache: <see cref="IO.ModelHub"/>). A task checkpoint (Wav2Vec2ForCTC,
    /// Wav2Vec2ForPreTraining, ...) works too: its head tensors are reported in <paramref name="report"/> as ignored.
    /// Strict: every backbone tensor must be present and nothing unknown may be stored.
    /// </summary>
    public static Wav2Vec2Model FromPretrained(string directory, bool strict, out IO.LoadReport report) =>
        PretrainedDirectory.Load(directory, strict, config => new Wav2Vec2Model(config, new RandomSource(0)), m => m, out report);

    /// <summary>Loads the backbone (see <see cref="FromPretrained(string, bool, out IO.LoadReport)"/>).</summary>
    /// <example><code>
    /// var model = Wav2Vec2Model.FromPretrained("wav2vec2-base");
    /// Tensor layer6 = model.ExtractFeatures(AudioFile.Read("speech.wav"), layer: 6);   // Wav2Vec2.Inference
    /// </code></example>
    public static Wav2Vec2Model FromPretrained(string directory, bool strict = true) => FromPretrained(directory, strict, out _);

    /// <summary>Writes config.json, model.safetensors (Hugging Face names, no prefix) and preprocessor_config.json, in
    /// the precision the model holds its weights in alone (<see cref="Nn.Module.HeldPrecision"/>), else in fp32.</summary>
    public void SavePretrained(string directory) => SavePretrained(directory, HeldPrecision ?? Precision.Float32);

    /// <summary>As <see cref="SavePretrained(string)"/>, in <paramref name="precision"/> (see
    /// <see cref="Wav2Vec2TaskModel.SavePretrained(string, Precision)"/>).</summary>
    /// <exception cref="HeldWeightsException">Another precision than the one the model holds its weights in alone.</exception>
    public void SavePretrained(string directory, Precision precision) =>
        PretrainedDirectory.Save(directory, this, Config, Preprocessor, Config.ClassPrefix + "Model", precision);

    /// <summary>Random stream for dropout and layer drop in training mode.</summary>
    public RandomSource Random { get; set; }

    /// <summary>The learned embedding that replaces masked frames, if the config masks.</summary>
    public Parameter? MaskedSpecEmbed { get; }

    /// <summary>Seconds of audio per output frame: inputs_to_logits_ratio / sampling rate (320 / 16000 = 0.02 for the
    /// standard encoder), the unit of every timestamp.</summary>
    public double SecondsPerFrame => (double)Config.InputsToLogitsRatio / Preprocessor.SamplingRate;

    /// <summary>Frames produced by <paramref name="samples"/> input samples (the conv encoder's output length).</summary>
    public int FrameCount(int samples)
    {
        long length = samples;
        for (int i = 0; i < Config.ConvKernel.Length; i++)
            length = length < Config.ConvKernel[i] ? 0 : (length - Config.ConvKernel[i]) / Config.ConvStride[i] + 1;
        return (int)length;
    }

    /// <summary>
    /// Runs the model on normalised audio <paramref name="inputValues"/> (batch, samples). In training mode dropout and
    /// layer drop use <see cref="Random"/>; otherwise the pass is deterministic.
    /// </summary>
    public Wav2Vec2Output Forward(Tensor inputValues, Wav2Vec2ForwardOptions? options = null)
    {
        options ??= new Wav2Vec2ForwardOptions();
        if (inputValues.Rank != 2)
            throw new ArgumentException($"input values must be (batch, samples), got {inputValues}");
        int batch = inputValues.Size(0), samples = inputValues.Size(1);
        int[] sampleLengths = options.SampleLengths ?? Enumerable.Repeat(samples, batch).ToArray();
        if (sampleLengths.Length != batch || sampleLengths.Any(l => l <= 0 || l > samples))
            throw new ArgumentException($"sample lengths must be {batch} values in [1, {samples}]");
        bool padded = sampleLengths.Any(l => l != samples);
        if (padded && Config.FeatExtractNorm == FeatureEncoderNorm.Group && !options.AllowPaddedGroupNorm)
            throw new ArgumentException(
                "group-norm feature encoders have no correct padding mask: batch utterances of one length or run them one at a time");
        int frames = FrameCount(samples);
        if (frames <= 0)
            throw new ArgumentException($"{samples} samples are too short for the conv feature encoder (no output frame)");
        int[] frameLengths = sampleLengths.Select(FrameCount).ToArray();
        bool[]? keyPadding = padded ? PaddingMask(frameLengths, frames) : null;

        Tensor features = EncodeFeatures(inputValues, options.FeatureGradScale);       // (B, T, C)
        (Tensor hidden, Tensor extractFeatures) = _featureProjection.Forward(features, Random);
        if (options.MaskTimeIndices != null)
            hidden = ApplyTimeMask(hidden, options.MaskTimeIndices);
        if (options.MaskFeatureIndices != null)
            hidden = ApplyFeatureMask(hidden, options.MaskFeatureIndices);
        int stopAfter = options.StopAfterLayer ?? Config.NumHiddenLayers;
        if (stopAfter < 0 || stopAfter > Config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(nameof(options), $"StopAfterLayer must be in [0, {Config.NumHiddenLayers}], got {stopAfter}");
        var hiddenStates = new List<Tensor>();
        Tensor last = _encoder.Forward(hidden, keyPadding, stopAfter, options.OutputHiddenStates ? hiddenStates : null,
            Random);
        return new Wav2Vec2Output(last, extractFeatures, hiddenStates, frameLengths, features);
    }

    private Tensor EncodeFeatures(Tensor inputValues, float gradScale)
    {
        if (gradScale == 0f)
        {
            using var frozen = Tape.NoGrad();
            return _featureEncoder.Forward(inputValues);
        }
        Tensor features = _featureEncoder.Forward(inputValues);
        return gradScale == 1f ? features : Ops.GradScale(features, gradScale);
    }

    // Zeroes the flagged channels of every frame: a (B, 1, C) 0/1 factor broadcast over time.
    private static Tensor ApplyFeatureMask(Tensor hidden, bool[] mask)
    {
        int batch = hidden.Size(0), channels = hidden.Size(2);
        if (mask.Length != batch * channels)
            throw new ArgumentException($"feature mask needs batch * hidden_size = {batch * channels} entries, got {mask.Length}");
        var keep = new float[mask.Length];
        for (int i = 0; i < keep.Length; i++)
            keep[i] = mask[i] ? 0f : 1f;
        return Ops.Multiply(hidden, Tensor.FromArray(keep, batch, 1, channels));
    }

    private Tensor ApplyTimeMask(Tensor hidden, bool[] mask)
    {
        if (MaskedSpecEmbed == null)
            throw new InvalidOperationException("this config has no masked_spec_embed (mask_time_prob is 0)");
        if (mask.Length != hidden.Size(0) * hidden.Size(1))
            throw new ArgumentException($"time mask needs batch * frames = {hidden.Size(0) * hidden.Size(1)} entries, got {mask.Length}");
        return Ops.MaskedReplace(hidden, mask, MaskedSpecEmbed);
    }

    private static bool[] PaddingMask(int[] frameLengths, int frames)
    {
        var mask = new bool[frameLengths.Length * frames];
        for (int b = 0; b < frameLengths.Length; b++)
            for (int t = frameLengths[b]; t < frames; t++)
                mask[b * frames + t] = true;
        return mask;
    }
}
