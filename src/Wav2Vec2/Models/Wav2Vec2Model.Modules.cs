using Wav2Vec2.Autograd;
using Wav2Vec2.Diagnostics;
using Wav2Vec2.Kernels;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

// The building blocks of Wav2Vec2Model (conv feature encoder, feature projection, positional convolution,
// Transformer encoder), private to it and named as Hugging Face names their weights.
public sealed partial class Wav2Vec2Model
{
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
        private readonly LayerNorm? _norm;   // HuBERT's feat_proj_layer_norm may leave it out
        private readonly Nn.Linear _projection;
        private readonly float _dropout;

        public FeatureProjection(Wav2Vec2Config config, RandomSource random)
        {
            if (config.ProjectionLayerNorm)
                _norm = AddModule("layer_norm", new LayerNorm(config.ConvDim[^1], config.LayerNormEps));
            _projection = AddModule("projection", new Nn.Linear(config.ConvDim[^1], config.HiddenSize, random));
            _dropout = config.FeatProjDropout;
        }

        // (B, T, C) conv features -> ((B, T, hidden) projected, (B, T, C) normalised features).
        public (Tensor Hidden, Tensor Normalized) Forward(Tensor features, RandomSource random)
        {
            using var _ = StageProfiler.Enter("feature projection");
            Tensor normalized = _norm?.Forward(features) ?? features;
            return (Dropout(_projection.Forward(normalized), _dropout, random), normalized);
        }
    }

    /// <summary>The convolutional relative positional embedding added to the Transformer's input, (B, T, hidden) -> same.</summary>
    private abstract class PositionalEmbedding : Module
    {
        public abstract Tensor Forward(Tensor hidden);

        public static PositionalEmbedding Create(Wav2Vec2Config config, RandomSource random) => config.LayeredPositionalEmbedding
            ? new LayeredPositionalConvEmbedding(config, random) : new PositionalConvEmbedding(config, random);
    }

    /// <summary>Grouped conv over time with weight norm (kept dim 2), same padding, GELU; an even kernel drops the last frame.</summary>
    private sealed class PositionalConvEmbedding : PositionalEmbedding
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
            Init.Derived(_weightG, conv.SetGFromNorms);
        }

        public override Tensor Forward(Tensor hidden)
        {
            using var _ = StageProfiler.Enter("positional conv");
            // Channels-last over (B, T, hidden); an even kernel's extra last frame is never computed (one less
            // padding frame on the right).
            if (RunsInt8)
            {
                Int8Weights[][] taps = _int8Taps ??= Int8Convolution.QuantizeTaps(Ops.WeightNorm(_weightG, _weightV, 2).Span,
                    _bias.Length, _weightV.Size(1), _kernel, _groups);
                return Ops.Int8Conv1dChannelsLast(hidden, taps, 1, _kernel / 2, (_kernel - 1) / 2, _bias, gelu: true);
            }
            Tensor weight = Ops.WeightNorm(_weightG, _weightV, 2);
            return Ops.Conv1dChannelsLast(hidden, weight, _bias, padding: _kernel / 2, groups: _groups,
                paddingRight: (_kernel - 1) / 2, gelu: true);
        }

        private Int8Weights[][]? _int8Taps;

        private protected override void DropDerivedWeights() => _int8Taps = null;
    }

    /// <summary>
    /// data2vec-audio's positional embedding: num_conv_pos_embeddings layers, each a grouped conv of width
    /// conv_pos_kernel_size with bias and same padding (an even width drops the last frame), a layer norm without
    /// parameters (eps 1e-5, torch's default, not layer_norm_eps) and GELU.
    /// </summary>
    private sealed class LayeredPositionalConvEmbedding : PositionalEmbedding
    {
        private const float NormEps = 1e-5f;
        private readonly ModuleList<Conv> _layers;
        private readonly int _kernel, _groups;

        public LayeredPositionalConvEmbedding(Wav2Vec2Config config, RandomSource random)
        {
            int hidden = config.HiddenSize;
            (_kernel, _groups) = (config.ConvPosKernelSize, config.NumConvPosEmbeddingGroups);
            _layers = AddModule("layers", new ModuleList<Conv>(Enumerable.Range(0, config.NumConvPosEmbeddings)
                .Select(_ => new Conv(hidden, hidden / _groups, _kernel, random))));
        }

        public override Tensor Forward(Tensor hidden)
        {
            using var _ = StageProfiler.Enter("positional conv");
            foreach (Conv layer in _layers)
            {
                hidden = layer.Forward(hidden, _kernel, _groups);
                hidden = Ops.Gelu(Ops.LayerNorm(hidden, null, null, NormEps));
            }
            return hidden;
        }

        /// <summary>One layer under Hugging Face's names (layers.N.conv.weight / bias).</summary>
        public sealed class Conv : Module
        {
            private Int8Weights[][]? _int8Taps;

            public Conv(int channels, int inPerGroup, int kernel, RandomSource random)
            {
                var conv = AddModule("conv", new ConvParameters(channels, inPerGroup, kernel));
                (Weight, Bias) = (conv.Weight, conv.Bias);
                Init.Normal(Weight, MathF.Sqrt(2f / (inPerGroup * kernel)), random);   // Kaiming normal, as Hugging Face initialises it
            }

            public Parameter Weight { get; }
            public Parameter Bias { get; }

            // Same padding; an even kernel drops the last frame (one padding frame less on the right).
            public Tensor Forward(Tensor hidden, int kernel, int groups)
            {
                if (!RunsInt8)
                    return Ops.Conv1dChannelsLast(hidden, Weight, Bias, padding: kernel / 2, groups: groups, paddingRight: (kernel - 1) / 2);
                Int8Weights[][] taps = _int8Taps ??= Int8Convolution.QuantizeTaps(Weight.Span, Weight.Size(0), Weight.Size(1), kernel, groups);
                return Ops.Int8Conv1dChannelsLast(hidden, taps, 1, kernel / 2, (kernel - 1) / 2, Bias, gelu: false);
            }

            private protected override void DropDerivedWeights() => _int8Taps = null;
        }

        private sealed class ConvParameters : Module
        {
            public ConvParameters(int channels, int inPerGroup, int kernel)
            {
                Weight = AddParameter("weight", channels, inPerGroup, kernel);
                Bias = AddParameter("bias", channels);
            }

            public Parameter Weight { get; }
            public Parameter Bias { get; }
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
        private readonly PositionalEmbedding _positional;
        private readonly LayerNorm _layerNorm;
        private readonly ModuleList<EncoderLayer> _layers;
        private readonly bool _stable, _sharedPositionBias;
        private readonly float _dropout, _layerDrop;

        public TransformerEncoder(Wav2Vec2Config config, RandomSource random)
        {
            _stable = config.DoStableLayerNorm;
            (_dropout, _layerDrop) = (config.HiddenDropout, config.LayerDrop);
            _positional = AddModule("pos_conv_embed", PositionalEmbedding.Create(config, random));
            _layerNorm = AddModule("layer_norm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
            _layers = AddModule("layers", new ModuleList<EncoderLayer>(Enumerable.Range(0, config.NumHiddenLayers)
                .Select(i => new EncoderLayer(config, random, first: i == 0))));
            _sharedPositionBias = config.GatedRelativePositionBias;
        }

        public Tensor Forward(Tensor hidden, bool[]? keyPadding, int stopAfter, List<Tensor>? hiddenStates,
            RandomSource random)
        {
            if (keyPadding != null)
                hidden = Ops.MaskedReplace(hidden, keyPadding, null);   // padded frames are zero before the conv
            Tensor input = hidden;
            hidden = InferenceStage.Run(() =>
            {
                Tensor positions = _positional.Forward(input);
                return Dropout(_stable ? Ops.Add(input, positions) : _layerNorm.Forward(input, positions), _dropout, random);
            });
            hiddenStates?.Add(hidden);
            // WavLM: the first layer's relative position bias, shared by every layer (each gates it its own way).
            Tensor? positionBias = _sharedPositionBias && stopAfter > 0 ? _layers[0].PositionBias(hidden.Size(1)) : null;
            for (int i = 0; i < stopAfter; i++)
            {
                // Layer drop (training only): skipping keeps the residual stream as it is (WavLM never drops the first).
                bool skip = Training && _layerDrop > 0 && random.NextUniform() < _layerDrop && !(_sharedPositionBias && i == 0);
                EncoderLayer layer = _layers[i];
                Tensor x = hidden;
                bool finalNorm = _stable && i == _layers.Count - 1;
                hidden = InferenceStage.Run(() =>
                {
                    Tensor y = skip ? x : layer.Forward(x, keyPadding, random, positionBias);
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
        private readonly AttentionAdapter? _adapter;
        private readonly float _dropout;
        private readonly bool _stable;

        public EncoderLayer(Wav2Vec2Config config, RandomSource random, bool first)
        {
            (_dropout, _stable) = (config.HiddenDropout, config.DoStableLayerNorm);
            _attention = AddModule("attention", new SelfAttention(config, random, first));
            _layerNorm = AddModule("layer_norm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
            _feedForward = AddModule("feed_forward", new FeedForward(config, random));
            _finalLayerNorm = AddModule("final_layer_norm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
            // MMS's language adapters; Hugging Face builds them into pre-LN layers only.
            if (_stable && config.AdapterAttnDim is int adapterDim)
                _adapter = AddModule("adapter_layer", new AttentionAdapter(config.HiddenSize, adapterDim, random));
        }

        /// <summary>WavLM's relative position bias (heads, length, length) from this (the first) layer's embedding.</summary>
        public Tensor PositionBias(int length) => _attention.PositionBias(length);

        public Tensor Forward(Tensor x, bool[]? keyPadding, RandomSource random, Tensor? positionBias)
        {
            using var _ = StageProfiler.Enter("residual, dropout");
            if (_stable)
            {
                // Pre-LN: x + Attn(LN(x)), then + FF(LN(.)).
                Tensor attended = Dropout(_attention.Forward(_layerNorm.Forward(x), keyPadding, random, positionBias), _dropout, random);
                x = Ops.Add(x, attended);
                x = Ops.Add(x, _feedForward.Forward(_finalLayerNorm.Forward(x), random));
                return _adapter == null ? x : Ops.Add(x, _adapter.Forward(x));
            }
            // Post-LN: LN(x + Attn(x)), then LN(. + FF(.)).
            x = _layerNorm.Forward(x, Dropout(_attention.Forward(x, keyPadding, random, positionBias), _dropout, random));
            return _finalLayerNorm.Forward(x, _feedForward.Forward(x, random));
        }
    }

    /// <summary>
    /// MMS's attention adapter (Hugging Face's Wav2Vec2AttnAdapterLayer), added to a pre-LN layer's output:
    /// linear_2(ReLU(linear_1(LayerNorm(x)))), the norm with torch's default eps 1e-5.
    /// </summary>
    private sealed class AttentionAdapter : Module
    {
        private readonly LayerNorm _norm;
        private readonly Nn.Linear _down, _up;

        public AttentionAdapter(int hidden, int dim, RandomSource random)
        {
            _norm = AddModule("norm", new LayerNorm(hidden, 1e-5f));
            _down = AddModule("linear_1", new Nn.Linear(hidden, dim, random));
            _up = AddModule("linear_2", new Nn.Linear(dim, hidden, random));
        }

        public Tensor Forward(Tensor x) => _up.Forward(Ops.Relu(_down.Forward(_norm.Forward(x))));
    }

    private sealed class SelfAttention : Module
    {
        private readonly Nn.Linear _k, _v, _q, _out;
        private readonly WavLmGate? _gate;
        private readonly int _heads;
        private readonly float _dropout;

        public SelfAttention(Wav2Vec2Config config, RandomSource random, bool first)
        {
            int h = config.HiddenSize;
            float std = config.InitializerRange;
            (_heads, _dropout) = (config.NumAttentionHeads, config.AttentionDropout);
            _k = AddModule("k_proj", new Nn.Linear(h, h, random, normalStd: std));
            _v = AddModule("v_proj", new Nn.Linear(h, h, random, normalStd: std));
            _q = AddModule("q_proj", new Nn.Linear(h, h, random, normalStd: std));
            _out = AddModule("out_proj", new Nn.Linear(h, h, random, normalStd: std));
            if (config.GatedRelativePositionBias)
                _gate = new WavLmGate(this, config, first, random);
        }

        public Tensor PositionBias(int length) => _gate!.PositionBias(length);

        // WavLM (positionBias given): the bias, gated from this attention's input, is added to the scores.
        public Tensor Forward(Tensor x, bool[]? keyPadding, RandomSource random, Tensor? positionBias)
        {
            using var _ = StageProfiler.Enter("attention");
            Tensor? bias = positionBias == null ? null : _gate!.Gated(x, _heads, positionBias);
            Tensor[] qkv = Nn.Linear.ForwardShared(x, _q, _k, _v);
            return _out.Forward(RunsInt8 ? Ops.Int8Attention(qkv[0], qkv[1], qkv[2], _heads, keyPadding, bias)
                : Ops.Attention(qkv[0], qkv[1], qkv[2], _heads, keyPadding, Training ? _dropout : 0f, random, bias));
        }

        public Parameter Register(string name, params int[] shape) => AddParameter(name, shape);

        public T Register<T>(string name, T module) where T : Module => AddModule(name, module);
    }

    /// <summary>
    /// WavLM's gated relative position bias, its parameters under Hugging Face's names inside the attention module:
    /// gru_rel_pos_const (1, heads, 1, 1), gru_rel_pos_linear (head_dim -> 8) and, in the first layer only,
    /// rel_attn_embed (num_buckets x heads).
    /// </summary>
    private sealed class WavLmGate
    {
        private readonly Parameter _constant;
        private readonly Nn.Linear _linear;
        private readonly Parameter? _embedding;
        private readonly int _maxDistance;

        public WavLmGate(SelfAttention attention, Wav2Vec2Config config, bool first, RandomSource random)
        {
            int heads = config.NumAttentionHeads;
            _constant = attention.Register("gru_rel_pos_const", 1, heads, 1, 1);
            _constant.Span.Fill(1f);
            _linear = attention.Register("gru_rel_pos_linear", new Nn.Linear(config.HiddenSize / heads, 8, random) { KeepsFloat32 = true });
            if (first)
            {
                _embedding = attention.Register("rel_attn_embed", new EmbeddingWeight(config.NumBuckets, heads, random)).Weight;
            }
            _maxDistance = config.MaxBucketDistance;
        }

        public Tensor PositionBias(int length) => Ops.RelativePositionBias(
            _embedding ?? throw new InvalidOperationException("only the first layer holds rel_attn_embed"), length, _maxDistance);

        public Tensor Gated(Tensor x, int heads, Tensor positionBias) =>
            Ops.GatedPositionBias(x, heads, _linear.Weight, _linear.Bias!, _constant, positionBias);
    }

    /// <summary>An embedding table's parameter under Hugging Face's name (weight), normally initialised.</summary>
    private sealed class EmbeddingWeight : Module
    {
        public EmbeddingWeight(int rows, int columns, RandomSource random)
        {
            Weight = AddParameter("weight", rows, columns);
            Init.Normal(Weight, 1f, random);
        }

        public Parameter Weight { get; }
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
