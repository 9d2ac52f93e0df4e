using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.Diagnostics;
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
public sealed class Wav2Vec2Model : Module
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

    private int CheckLayer(int? layer)
    {
        int n = layer ?? Config.NumHiddenLayers;
        if (n < 0 || n > Config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(nameof(layer), $"layer must be in [0, {Config.NumHiddenLayers}], got {n}");
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
            if (n < 0 || n > Config.NumHiddenLayers)
                throw new ArgumentOutOfRangeException(nameof(layers), $"layers must be in [0, {Config.NumHiddenLayers}], got {n}");
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

    /// <summary>
    /// conv -> norm -> GELU blocks turning (batch, samples) audio into (batch, frames, channels). The blocks work
    /// channels-last, (batch, time, channels): each convolution then reads its input as its unfolded matrix, and the
    /// result is already in the layout the feature projection wants.
    /// </summary>
    private sealed class FeatureEncoder : Module
    {
        private readonly ModuleList<ConvBlock> _layers;

        public FeatureEncoder(Wav2Vec2Config config, RandomSource random)
        {
            _layers = AddModule("conv_layers", new ModuleList<ConvBlock>(Enumerable.Range(0, config.ConvDim.Length)
                .Select(i => new ConvBlock(config, i, random))));
        }

        public Tensor Forward(Tensor audio)
        {
            using var _ = StageProfiler.Enter("conv encoder");
            Tensor x = Ops.Reshape(audio, audio.Size(0), audio.Size(1), 1);             // (B, S, 1)
            foreach (ConvBlock layer in _layers)
                x = InferenceStage.Consume(x, layer.Forward);
            return x;
        }
    }

    private sealed class ConvBlock : Module
    {
        private readonly Nn.Conv1d _conv;
        private readonly GroupNorm? _groupNorm;
        private readonly LayerNorm? _layerNorm;

        public ConvBlock(Wav2Vec2Config config, int index, RandomSource random)
        {
            int inChannels = index == 0 ? 1 : config.ConvDim[index - 1], outChannels = config.ConvDim[index];
            _conv = AddModule("conv", new Nn.Conv1d(inChannels, outChannels, config.ConvKernel[index], random,
                stride: config.ConvStride[index], bias: config.ConvBias, kaimingNormal: true));
            if (config.FeatExtractNorm == FeatureEncoderNorm.Layer)
                _layerNorm = AddModule("layer_norm", new LayerNorm(outChannels));
            else if (index == 0)
                _groupNorm = AddModule("layer_norm", new GroupNorm(outChannels, outChannels));
        }

        public Tensor Forward(Tensor x)
        {
            // In inference the conv output is normalised and activated in place: the first layer's output alone is
            // 512 channels x 50 frames per 10 ms of audio.
            bool inPlace = InferenceStage.InPlaceAllowed;
            if (_layerNorm == null && _groupNorm == null)
                return _conv.ForwardChannelsLast(x, gelu: true);                        // (B, T, C)
            x = _conv.ForwardChannelsLast(x);
            if (_groupNorm != null)
                return _groupNorm.ForwardChannelsLast(x, inPlace, gelu: true);
            return Ops.Gelu(_layerNorm!.Forward(x), inPlace);
        }
    }

    private sealed class FeatureProjection : Module
    {
        private readonly LayerNorm _norm;
        private readonly Nn.Linear _projection;
        private readonly float _dropout;

        public FeatureProjection(Wav2Vec2Config config, RandomSource random)
        {
            _norm = AddModule("layer_norm", new LayerNorm(config.ConvDim[^1], config.LayerNormEps));
            _projection = AddModule("projection", new Nn.Linear(config.ConvDim[^1], config.HiddenSize, random));
            _dropout = config.FeatProjDropout;
        }

        // (B, T, C) conv features -> ((B, T, hidden) projected, (B, T, C) normalised features).
        public (Tensor Hidden, Tensor Normalized) Forward(Tensor features, RandomSource random)
        {
            using var _ = StageProfiler.Enter("feature projection");
            Tensor normalized = _norm.Forward(features);
            return (Dropout(_projection.Forward(normalized), _dropout, random), normalized);
        }
    }

    /// <summary>Grouped conv over time with weight norm (kept dim 2), same padding, GELU; an even kernel drops the last frame.</summary>
    private sealed class PositionalConvEmbedding : Module
    {
        private readonly Parameter _weightG, _weightV, _bias;
        private readonly int _kernel, _groups;

        public PositionalConvEmbedding(Wav2Vec2Config config, RandomSource random)
        {
            int hidden = config.HiddenSize;
            (_kernel, _groups) = (config.NumConvPosEmbeddings, config.NumConvPosEmbeddingGroups);
            var conv = AddModule("conv", new WeightNormConv(hidden, hidden / _groups, _kernel));
            (_weightG, _weightV, _bias) = (conv.WeightG, conv.WeightV, conv.Bias);
            Init.Normal(_weightV, 2f * MathF.Sqrt(1f / (_kernel * hidden)), random);
            conv.SetGFromNorms();
        }

        public Tensor Forward(Tensor hidden)
        {
            using var _ = StageProfiler.Enter("positional conv");
            Tensor weight = Ops.WeightNorm(_weightG, _weightV, 2);
            // Channels-last over (B, T, hidden); an even kernel's extra last frame is never computed (one less
            // padding frame on the right).
            return Ops.Conv1dChannelsLast(hidden, weight, _bias, padding: _kernel / 2, groups: _groups,
                paddingRight: (_kernel - 1) / 2, gelu: true);
        }
    }

    /// <summary>Holds the weight-normalised conv's parameters under Hugging Face's names.</summary>
    private sealed class WeightNormConv : Module
    {
        public WeightNormConv(int channels, int inPerGroup, int kernel)
        {
            WeightG = AddParameter("weight_g", 1, 1, kernel);
            WeightV = AddParameter("weight_v", channels, inPerGroup, kernel);
            Bias = AddParameter("bias", channels);
        }

        public Parameter WeightG { get; }
        public Parameter WeightV { get; }
        public Parameter Bias { get; }

        // g = ||v|| over all dims but the kernel position, so that the initial weight equals v (torch's weight_norm).
        public void SetGFromNorms()
        {
            int kernel = WeightG.Length, rows = WeightV.Length / kernel;
            for (int k = 0; k < kernel; k++)
            {
                double sum = 0;
                for (int r = 0; r < rows; r++)
                    sum += (double)WeightV.Span[r * kernel + k] * WeightV.Span[r * kernel + k];
                WeightG.Span[k] = (float)Math.Sqrt(sum);
            }
        }
    }

    private sealed class TransformerEncoder : Module
    {
        private readonly PositionalConvEmbedding _positional;
        private readonly LayerNorm _layerNorm;
        private readonly ModuleList<EncoderLayer> _layers;
        private readonly bool _stable;
        private readonly float _dropout, _layerDrop;

        public TransformerEncoder(Wav2Vec2Config config, RandomSource random)
        {
            _stable = config.DoStableLayerNorm;
            (_dropout, _layerDrop) = (config.HiddenDropout, config.LayerDrop);
            _positional = AddModule("pos_conv_embed", new PositionalConvEmbedding(config, random));
            _layerNorm = AddModule("layer_norm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
            _layers = AddModule("layers", new ModuleList<EncoderLayer>(Enumerable.Range(0, config.NumHiddenLayers)
                .Select(_ => new EncoderLayer(config, random))));
        }

        public Tensor Forward(Tensor hidden, bool[]? keyPadding, int stopAfter, List<Tensor>? hiddenStates,
            RandomSource random)
        {
            if (keyPadding != null)
                hidden = Ops.MaskedReplace(hidden, keyPadding, null);   // padded frames are zero before the conv
            Tensor input = hidden;
            hidden = InferenceStage.Run(() =>
            {
                Tensor x = Ops.Add(input, _positional.Forward(input));
                return Dropout(_stable ? x : _layerNorm.Forward(x), _dropout, random);
            });
            hiddenStates?.Add(hidden);
            for (int i = 0; i < stopAfter; i++)
            {
                // Layer drop (training only): skipping keeps the residual stream as it is.
                bool skip = Training && _layerDrop > 0 && random.NextUniform() < _layerDrop;
                EncoderLayer layer = _layers[i];
                Tensor x = hidden;
                bool finalNorm = _stable && i == _layers.Count - 1;
                hidden = InferenceStage.Run(() =>
                {
                    Tensor y = skip ? x : layer.Forward(x, keyPadding, random);
                    return finalNorm ? _layerNorm.Forward(y) : y;
                });
                hiddenStates?.Add(hidden);
            }
            return hidden;
        }
    }

    private sealed class EncoderLayer : Module
    {
        private readonly SelfAttention _attention;
        private readonly LayerNorm _layerNorm, _finalLayerNorm;
        private readonly FeedForward _feedForward;
        private readonly float _dropout;
        private readonly bool _stable;

        public EncoderLayer(Wav2Vec2Config config, RandomSource random)
        {
            (_dropout, _stable) = (config.HiddenDropout, config.DoStableLayerNorm);
            _attention = AddModule("attention", new SelfAttention(config, random));
            _layerNorm = AddModule("layer_norm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
            _feedForward = AddModule("feed_forward", new FeedForward(config, random));
            _finalLayerNorm = AddModule("final_layer_norm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
        }

        public Tensor Forward(Tensor x, bool[]? keyPadding, RandomSource random)
        {
            using var _ = StageProfiler.Enter("residual, dropout");
            if (_stable)
            {
                // Pre-LN: x + Attn(LN(x)), then + FF(LN(.)).
                Tensor attended = Dropout(_attention.Forward(_layerNorm.Forward(x), keyPadding, random), _dropout, random);
                x = Ops.Add(x, attended);
                return Ops.Add(x, _feedForward.Forward(_finalLayerNorm.Forward(x), random));
            }
            // Post-LN: LN(x + Attn(x)), then LN(. + FF(.)).
            x = _layerNorm.Forward(Ops.Add(x, Dropout(_attention.Forward(x, keyPadding, random), _dropout, random)));
            return _finalLayerNorm.Forward(Ops.Add(x, _feedForward.Forward(x, random)));
        }
    }

    private sealed class SelfAttention : Module
    {
        private readonly Nn.Linear _k, _v, _q, _out;
        private readonly int _heads;
        private readonly float _dropout;

        public SelfAttention(Wav2Vec2Config config, RandomSource random)
        {
            int h = config.HiddenSize;
            float std = config.InitializerRange;
            (_heads, _dropout) = (config.NumAttentionHeads, config.AttentionDropout);
            _k = AddModule("k_proj", new Nn.Linear(h, h, random, normalStd: std));
            _v = AddModule("v_proj", new Nn.Linear(h, h, random, normalStd: std));
            _q = AddModule("q_proj", new Nn.Linear(h, h, random, normalStd: std));
            _out = AddModule("out_proj", new Nn.Linear(h, h, random, normalStd: std));
        }

        public Tensor Forward(Tensor x, bool[]? keyPadding, RandomSource random)
        {
            using var _ = StageProfiler.Enter("attention");
            return _out.Forward(Ops.Attention(_q.Forward(x), _k.Forward(x), _v.Forward(x), _heads, keyPadding,
                Training ? _dropout : 0f, random));
        }
    }

    private sealed class FeedForward : Module
    {
        private readonly Nn.Linear _intermediate, _output;
        private readonly float _activationDropout, _hiddenDropout;

        public FeedForward(Wav2Vec2Config config, RandomSource random)
        {
            (_activationDropout, _hiddenDropout) = (config.ActivationDropout, config.HiddenDropout);
            _intermediate = AddModule("intermediate_dense", new Nn.Linear(config.HiddenSize, config.IntermediateSize, random, normalStd: config.InitializerRange));
            _output = AddModule("output_dense", new Nn.Linear(config.IntermediateSize, config.HiddenSize, random, normalStd: config.InitializerRange));
        }

        public Tensor Forward(Tensor x, RandomSource random)
        {
            using var _ = StageProfiler.Enter("feed-forward");
            Tensor h = Dropout(_intermediate.ForwardGelu(x), _activationDropout, random);
            return Dropout(_output.Forward(h), _hiddenDropout, random);
        }
    }
}
