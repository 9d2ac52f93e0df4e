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

    /// <summary>
    /// Loads the backbone from a Hugging Face model directory. A Wav2Vec2ForCTC or Wav2Vec2ForPreTraining checkpoint
    /// works too: its head tensors are reported in <paramref name="report"/> as ignored. Strict: every backbone tensor
    /// must be present and nothing unknown may be stored.
    /// </summary>
    public static Wav2Vec2Model FromPretrained(string directory, bool strict, out IO.LoadReport report) =>
        PretrainedDirectory.Load(directory, strict, config => new Wav2Vec2Model(config, new RandomSource(0)), m => m, out report);

    /// <summary>Loads the backbone strictly (see <see cref="FromPretrained(string, bool, out IO.LoadReport)"/>).</summary>
    public static Wav2Vec2Model FromPretrained(string directory) => FromPretrained(directory, strict: true, out _);

    /// <summary>Writes config.json, model.safetensors (Hugging Face names, no prefix) and preprocessor_config.json.</summary>
    public void SavePretrained(string directory) => PretrainedDirectory.Save(directory, this, Config, Preprocessor, "Wav2Vec2Model");

    /// <summary>
    /// Hidden states of layer <paramref name="layer"/> (Hugging Face hidden_states[layer]; default: the last) for a
    /// recording of any length and rate, (frames, hidden_size), in evaluation mode. Long recordings run in overlapping
    /// chunks (see <see cref="ChunkedInference"/>).
    /// </summary>
    public Tensor ExtractFeatures(AudioClip audio, int? layer = null, ChunkingOptions? chunking = null,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        int n = CheckLayer(layer);
        float[] input = Preprocessor.Prepare(audio);
        return ChunkedInference.Run(this, input, chunking, values => LayerOutput(values, n), Config.HiddenSize, progress,
            cancellationToken);
    }

    /// <summary>
    /// As <see cref="ExtractFeatures(AudioClip, int?, ChunkingOptions?, IProgress{double}?, CancellationToken)"/>, but
    /// hands the frames to <paramref name="frames"/> a chunk at a time, in order (rows of hidden_size values), instead of
    /// returning them: memory stays that of one chunk whatever the recording's length (e.g. to stream them to a file).
    /// Returns the number of frames.
    /// </summary>
    public int StreamFeatures(AudioClip audio, Action<ReadOnlySpan<float>> frames, int? layer = null,
        ChunkingOptions? chunking = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        int n = CheckLayer(layer);
        float[] input = Preprocessor.Prepare(audio);
        ChunkedInference.Stream(this, input, chunking, values => LayerOutput(values, n), progress, cancellationToken, frames);
        return FrameCount(input.Length);
    }

    // A hidden_states index (default: the last layer), checked; parameter names the caller's argument in the error.
    private int CheckLayer(int? layer, string parameter = "layer")
    {
        int n = layer ?? Config.NumHiddenLayers;
        if (n < 0 || n > Config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(parameter, $"{parameter} must be in [0, {Config.NumHiddenLayers}], got {n}");
        return n;
    }

    private Tensor LayerOutput(Tensor values, int layer) =>
        Forward(values, new Wav2Vec2ForwardOptions { StopAfterLayer = layer }).LastHiddenState;

    /// <summary>
    /// Hidden states of several layers (Hugging Face hidden_states indices in [0, num_hidden_layers]) of several
    /// recordings of any length and rate, in evaluation mode: one forward pass per recording, through the deepest
    /// requested layer, whatever the number of layers. Recordings that fit one chunk run in batches of up to
    /// <paramref name="batchSize"/> consecutive recordings (of equal length for group-norm encoders such as BASE, padded
    /// for layer-norm encoders); longer ones run chunked, one at a time (see <see cref="ChunkingOptions"/>).
    /// </summary>
    /// <returns>[recording][layer]: (frames, hidden_size) for each recording and requested layer, in request order.</returns>
    /// <example><code>
    /// Tensor[][] states = model.ExtractHiddenStates(clips, layers: [6, 12], batchSize: 4);
    /// Tensor layer6OfFirst = states[0][0];   // (frames, 768)
    /// </code></example>
    public Tensor[][] ExtractHiddenStates(IReadOnlyList<AudioClip> audio, IReadOnlyList<int> layers, int batchSize = 1,
        ChunkingOptions? chunking = null, CancellationToken cancellationToken = default)
    {
        if (layers.Count == 0)
            throw new ArgumentException("at least one layer is needed", nameof(layers));
        foreach (int n in layers)
            CheckLayer(n, nameof(layers));
        int deepest = layers.Max(), hidden = Config.HiddenSize;
        float[][] inputs = audio.Select(Preprocessor.Prepare).ToArray();
        // The requested layers side by side, (B, frames, layers x hidden), so that chunking and batching stitch them together.
        Tensor[] joined = ChunkedInference.RunBatch(this, inputs, batchSize, chunking, (values, lengths) =>
        {
            Wav2Vec2Output output = Forward(values, new Wav2Vec2ForwardOptions
            {
                SampleLengths = lengths, OutputHiddenStates = layers.Count > 1, StopAfterLayer = deepest,
            });
            return layers.Count == 1 ? output.LastHiddenState : Ops.Concat(layers.Select(n => output.HiddenStates[n]).ToList(), 2);
        }, layers.Count * hidden, cancellationToken);
        return joined.Select(states => SplitColumns(states, layers.Count, hidden)).ToArray();
    }

    // (frames, parts x width) -> parts tensors of (frames, width).
    private static Tensor[] SplitColumns(Tensor joined, int parts, int width)
    {
        if (parts == 1)
            return [joined];
        int frames = joined.Size(0);
        var result = new Tensor[parts];
        for (int p = 0; p < parts; p++)
        {
            result[p] = new Tensor([frames, width], clear: false, pooled: false);
            for (int t = 0; t < frames; t++)
                joined.Span.Slice((t * parts + p) * width, width).CopyTo(result[p].Span.Slice(t * width, width));
        }
        return result;
    }

    /// <summary>Extracts features on a worker thread.</summary>
    public Task<Tensor> ExtractFeaturesAsync(AudioClip audio, int? layer = null, ChunkingOptions? chunking = null,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => ExtractFeatures(audio, layer, chunking, progress, cancellationToken), cancellationToken);

    /// <summary>Random stream for dropout and layer drop in training mode.</summary>
    public RandomSource Random { get; set; }

    /// <summary>The learned embedding that replaces masked frames, if the config masks.</summary>
    public Parameter? MaskedSpecEmbed { get; }

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

    /// <summary>
    /// <see cref="Forward"/>, run without being recorded for the backward pass when
    /// <paramref name="frozen"/> (a task head training alone: the backbone gets no gradient and keeps no activations).
    /// </summary>
    internal Wav2Vec2Output ForwardForHead(Tensor inputValues, Wav2Vec2ForwardOptions? options, bool frozen)
    {
        if (!frozen)
            return Forward(inputValues, options);
        using var noGrad = Tape.NoGrad();
        return Forward(inputValues, options);
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
