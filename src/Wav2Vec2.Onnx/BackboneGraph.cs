using Onnx;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Onnx;

/// <summary>
/// The wav2vec 2.0 backbone as ONNX operators, mirroring <see cref="Wav2Vec2Model"/>'s forward pass step by step: the
/// conv feature encoder (group or layer norm), the feature projection, the positional convolution (weight norm folded
/// into the weight; data2vec-audio's layered variant), the Transformer layers (post-LN or pre-LN, MMS adapters, WavLM's
/// gated relative position bias) and, with an attention mask, the frame mask (padded frames zeroed before the positional
/// convolution, padded keys excluded from attention), as Hugging Face's models do.
/// </summary>
internal sealed class BackboneGraph
{
    private const float MaskedScore = -1e9f;   // exp() of it is 0: a padded key gets no weight
    private readonly OnnxGraph _g;
    private readonly Wav2Vec2Config _c;
    private readonly Dictionary<string, Tensor> _weights;

    public BackboneGraph(OnnxGraph graph, Wav2Vec2Model model)
    {
        _g = graph;
        _c = model.Config;
        _weights = model.NamedTensors().ToDictionary(t => t.Name, t => t.Tensor, StringComparer.Ordinal);
    }

    /// <summary>(batch, frames) validity of each frame, or null without an attention mask.</summary>
    public string? FrameMask { get; private set; }

    /// <summary>
    /// Adds the backbone on <paramref name="inputValues"/> (batch, samples); returns the hidden states 0 to
    /// <paramref name="lastLayer"/> (each (batch, frames, hidden), the last one normalised for pre-LN models when it is
    /// the final layer, as hidden_states is in Hugging Face's output).
    /// </summary>
    public List<string> Build(string inputValues, string? attentionMask, int lastLayer)
    {
        string features = FeatureEncoder(inputValues);                                  // (B, T, C)
        string hidden = FeatureProjection(features);                                    // (B, T, H)
        string? keyBias = null;
        if (attentionMask != null)
        {
            FrameMask = FrameValidity(attentionMask, hidden);
            string valid = _g.Cast(FrameMask, TensorProto.Types.DataType.Float);
            hidden = _g.Node("Mul", [hidden, _g.Node("Unsqueeze", [valid, _g.Int64s(2)])]);
            string padded = _g.Node("Sub", [_g.Scalar(1f), valid]);
            keyBias = _g.Node("Unsqueeze", [_g.Node("Mul", [padded, _g.Scalar(MaskedScore)]), _g.Int64s(1, 2)]);   // (B, 1, 1, T)
        }
        hidden = _g.Node("Add", [hidden, PositionalEmbedding(hidden)]);
        if (!_c.DoStableLayerNorm)
            hidden = LayerNorm(hidden, "encoder.layer_norm", _c.LayerNormEps);
        var states = new List<string> { hidden };
        string? positionBias = _c.ModelType == "wavlm" && lastLayer > 0 ? RelativePositionBias(hidden) : null;
        for (int i = 0; i < lastLayer; i++)
        {
            hidden = EncoderLayer(hidden, i, keyBias, positionBias);
            if (_c.DoStableLayerNorm && i == _c.NumHiddenLayers - 1)
                hidden = LayerNorm(hidden, "encoder.layer_norm", _c.LayerNormEps);
            states.Add(hidden);
        }
        return states;
    }

    /// <summary>
    /// (x - mean) / sqrt(variance + 1e-7) per utterance over its valid samples (all without a mask), padding set to 0:
    /// Hugging Face's feature extractor with do_normalize, and our preprocessor's inference epsilon.
    /// </summary>
    public string NormalizeInput(string input, string? attentionMask)
    {
        string axis = _g.Int64s(1);
        string Mean(string x, string? weights, string? count) => weights == null
            ? _g.Node("ReduceMean", [x], null, ("axes", new long[] { 1 }), ("keepdims", 1L))
            : _g.Node("Div", [_g.Node("ReduceSum", [_g.Node("Mul", [x, weights]), axis], null, ("keepdims", 1L)), count!]);
        string? valid = attentionMask == null ? null : _g.Cast(attentionMask, TensorProto.Types.DataType.Float);
        string? count = valid == null ? null : _g.Node("ReduceSum", [valid, axis], null, ("keepdims", 1L));
        string centred = _g.Node("Sub", [input, Mean(input, valid, count)]);
        string variance = Mean(_g.Node("Mul", [centred, centred]), valid, count);
        string normalized = _g.Node("Div", [centred, _g.Node("Sqrt", [_g.Node("Add", [variance, _g.Scalar((float)Audio.InputValuesPreprocessor.InferenceEpsilon)])])]);
        return valid == null ? normalized : _g.Node("Mul", [normalized, valid]);
    }

    /// <summary>y = x W^T + b for a Linear's weights stored under <paramref name="prefix"/> (weight, bias).</summary>
    public string Linear(string x, string prefix, Dictionary<string, Tensor>? weights = null)
    {
        weights ??= _weights;
        Tensor w = weights[prefix + ".weight"];
        int rows = w.Size(0), columns = w.Size(1);
        var transposed = new float[w.Length];                                           // (in, out)
        ReadOnlySpan<float> source = w.Span;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                transposed[c * rows + r] = source[r * columns + c];
        string y = _g.Node("MatMul", [x, _g.Weight(prefix.Replace('.', '_'), transposed, columns, rows)]);
        return weights.TryGetValue(prefix + ".bias", out Tensor? b) ? _g.Node("Add", [y, Parameter(b, prefix + ".bias")]) : y;
    }

    /// <summary>GELU as x * 0.5 * (1 + erf(x / sqrt 2)): the pattern ONNX Runtime fuses into its Gelu kernel.</summary>
    public string Gelu(string x)
    {
        string erf = _g.Node("Erf", [_g.Node("Div", [x, _g.Scalar(MathF.Sqrt(2f))])]);
        return _g.Node("Mul", [_g.Node("Mul", [x, _g.Node("Add", [erf, _g.Scalar(1f)])]), _g.Scalar(0.5f)]);
    }

    /// <summary>A stored tensor as an initializer of its own shape.</summary>
    public string Parameter(Tensor t, string name) => _g.Weight(name.Replace('.', '_'), t.ToArray(), [.. t.ShapeArray.Select(d => (long)d)]);

    private string LayerNorm(string x, string prefix, float eps) =>
        _g.Node("LayerNormalization", [x, Parameter(_weights[prefix + ".weight"], prefix + ".weight"), Parameter(_weights[prefix + ".bias"], prefix + ".bias")],
            null, ("axis", -1L), ("epsilon", eps));

    // (B, S) -> (B, T, C): conv, norm, GELU per layer; group norm (first layer only) is instance norm per channel.
    private string FeatureEncoder(string inputValues)
    {
        string x = _g.Node("Unsqueeze", [inputValues, _g.Int64s(1)]);                   // (B, 1, S)
        for (int i = 0; i < _c.ConvDim.Length; i++)
        {
            string prefix = $"feature_extractor.conv_layers.{i}";
            var inputs = new List<string> { x, Parameter(_weights[prefix + ".conv.weight"], prefix + ".conv.weight") };
            if (_c.ConvBias)
                inputs.Add(Parameter(_weights[prefix + ".conv.bias"], prefix + ".conv.bias"));
            x = _g.Node("Conv", [.. inputs], null, ("kernel_shape", new long[] { _c.ConvKernel[i] }), ("strides", new long[] { _c.ConvStride[i] }));
            if (_c.FeatExtractNorm == FeatureEncoderNorm.Layer)
            {
                string channelsLast = _g.Transpose(x, 0, 2, 1);
                x = _g.Transpose(Gelu(LayerNorm(channelsLast, prefix + ".layer_norm", 1e-5f)), 0, 2, 1);
            }
            else if (i == 0)
                x = Gelu(_g.Node("InstanceNormalization", [x, Parameter(_weights[prefix + ".layer_norm.weight"], prefix + ".layer_norm.weight"),
                    Parameter(_weights[prefix + ".layer_norm.bias"], prefix + ".layer_norm.bias")], null, ("epsilon", 1e-5f)));
            else
                x = Gelu(x);
        }
        return _g.Transpose(x, 0, 2, 1);
    }

    private string FeatureProjection(string features)
    {
        string x = _weights.ContainsKey("feature_projection.layer_norm.weight")
            ? LayerNorm(features, "feature_projection.layer_norm", _c.LayerNormEps) : features;
        return Linear(x, "feature_projection.projection");
    }

    // Output lengths through every conv ((L - k) / s + 1), then frame t is valid when t < length: (B, T) bool.
    private string FrameValidity(string attentionMask, string hidden)
    {
        string length = _g.Node("ReduceSum", [attentionMask, _g.Int64s(1)], null, ("keepdims", 0L));   // (B) int64
        for (int i = 0; i < _c.ConvKernel.Length; i++)
            length = _g.Node("Add", [_g.Node("Div", [_g.Node("Sub", [length, _g.Int64(_c.ConvKernel[i])]), _g.Int64(_c.ConvStride[i])]), _g.Int64(1)]);
        string frames = FrameCount(hidden);
        string positions = _g.Node("Range", [_g.Int64(0), frames, _g.Int64(1)]);       // (T)
        return _g.Node("Less", [_g.Node("Unsqueeze", [positions, _g.Int64s(0)]), _g.Node("Unsqueeze", [length, _g.Int64s(1)])]);
    }

    private string FrameCount(string hidden) =>
        _g.Node("Gather", [_g.Node("Shape", [hidden]), _g.Int64(1)], null, ("axis", 0L));

    // Same-padded grouped conv over time, weight norm folded in (g * v / |v| per kernel position), GELU; an even
    // kernel's last output frame is dropped. data2vec-audio: a stack of plain convs, each with a parameter-free LN.
    private string PositionalEmbedding(string hidden)
    {
        string x = _g.Transpose(hidden, 0, 2, 1);   // (B, H, T)
        int groups = _c.NumConvPosEmbeddingGroups;
        if (_c.ModelType == "data2vec-audio")
        {
            int kernel = _c.ConvPosKernelSize;
            for (int i = 0; i < _c.NumConvPosEmbeddings; i++)
            {
                string prefix = $"encoder.pos_conv_embed.layers.{i}.conv";
                x = SameConv(x, Parameter(_weights[prefix + ".weight"], prefix + ".weight"), Parameter(_weights[prefix + ".bias"], prefix + ".bias"), kernel, groups);
                string channelsLast = _g.Transpose(x, 0, 2, 1);
                var ones = Enumerable.Repeat(1f, _c.HiddenSize).ToArray();
                string normed = _g.Node("LayerNormalization", [channelsLast, _g.Weight("ones", ones, _c.HiddenSize), _g.Weight("zeros", new float[_c.HiddenSize], _c.HiddenSize)],
                    null, ("axis", -1L), ("epsilon", 1e-5f));
                x = _g.Transpose(Gelu(normed), 0, 2, 1);
            }
        }
        else
        {
            const string prefix = "encoder.pos_conv_embed.conv";
            x = Gelu(SameConv(x, _g.Weight("pos_conv_weight", WeightNorm(_weights[prefix + ".weight_g"], _weights[prefix + ".weight_v"]),
                [.. _weights[prefix + ".weight_v"].ShapeArray.Select(d => (long)d)]), Parameter(_weights[prefix + ".bias"], prefix + ".bias"), _c.NumConvPosEmbeddings, groups));
        }
        return _g.Transpose(x, 0, 2, 1);
    }

    private string SameConv(string x, string weight, string bias, int kernel, int groups)
    {
        string y = _g.Node("Conv", [x, weight, bias], null, ("kernel_shape", new long[] { kernel }), ("group", (long)groups),
            ("pads", new long[] { kernel / 2, kernel / 2 }));
        return kernel % 2 == 1 ? y : _g.Node("Slice", [y, _g.Int64s(0), _g.Int64s(-1), _g.Int64s(2)]);
    }

    // weight_norm(dim=2): w[o, i, k] = g[k] * v[o, i, k] / |v[:, :, k]|.
    private static float[] WeightNorm(Tensor g, Tensor v)
    {
        int kernel = v.Size(2);
        ReadOnlySpan<float> values = v.Span, gains = g.Span;
        var norms = new double[kernel];
        for (int i = 0; i < values.Length; i++)
            norms[i % kernel] += (double)values[i] * values[i];
        var weight = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
            weight[i] = (float)(gains[i % kernel] * values[i] / Math.Sqrt(norms[i % kernel]));
        return weight;
    }

    private string EncoderLayer(string x, int index, string? keyBias, string? positionBias)
    {
        string prefix = $"encoder.layers.{index}";
        if (_c.DoStableLayerNorm)
        {
            x = _g.Node("Add", [x, Attention(LayerNorm(x, prefix + ".layer_norm", _c.LayerNormEps), prefix + ".attention", keyBias, positionBias)]);
            x = _g.Node("Add", [x, FeedForward(LayerNorm(x, prefix + ".final_layer_norm", _c.LayerNormEps), prefix + ".feed_forward")]);
            if (_weights.ContainsKey(prefix + ".adapter_layer.linear_1.weight"))
            {
                string adapter = prefix + ".adapter_layer";
                string down = _g.Node("Relu", [Linear(LayerNorm(x, adapter + ".norm", 1e-5f), adapter + ".linear_1")]);
                x = _g.Node("Add", [x, Linear(down, adapter + ".linear_2")]);
            }
            return x;
        }
        x = LayerNorm(_g.Node("Add", [x, Attention(x, prefix + ".attention", keyBias, positionBias)]), prefix + ".layer_norm", _c.LayerNormEps);
        return LayerNorm(_g.Node("Add", [x, FeedForward(x, prefix + ".feed_forward")]), prefix + ".final_layer_norm", _c.LayerNormEps);
    }

    private string FeedForward(string x, string prefix) =>
        Linear(Gelu(Linear(x, prefix + ".intermediate_dense")), prefix + ".output_dense");

    // Multi-head self-attention: (B, T, H) -> heads (B, n, T, d), softmax(q k^T / sqrt d + biases) v, merged, projected.
    private string Attention(string x, string prefix, string? keyBias, string? positionBias)
    {
        float scale = 1f / MathF.Sqrt(_c.HiddenSize / _c.NumAttentionHeads);
        string q = Heads(_g.Node("Mul", [Linear(x, prefix + ".q_proj"), _g.Scalar(scale)]), 0, 2, 1, 3);
        string k = Heads(Linear(x, prefix + ".k_proj"), 0, 2, 3, 1);
        string v = Heads(Linear(x, prefix + ".v_proj"), 0, 2, 1, 3);
        string scores = _g.Node("MatMul", [q, k]);                                       // (B, n, T, T)
        if (positionBias != null)
            scores = _g.Node("Add", [scores, GatedPositionBias(x, prefix, positionBias)]);
        if (keyBias != null)
            scores = _g.Node("Add", [scores, keyBias]);
        string context = _g.Node("MatMul", [_g.Node("Softmax", [scores], null, ("axis", -1L)), v]);
        string merged = _g.Node("Reshape", [_g.Transpose(context, 0, 2, 1, 3), _g.Int64s(0, 0, _c.HiddenSize)]);
        return Linear(merged, prefix + ".out_proj");
    }

    // (B, T, H) split into heads of head_dim, then permuted: (B, n, T, d) with 0, 2, 1, 3.
    private string Heads(string x, params long[] perm) =>
        _g.Transpose(_g.Node("Reshape", [x, _g.Int64s(0, 0, _c.NumAttentionHeads, _c.HiddenSize / _c.NumAttentionHeads)]), perm);

    // WavLM: the first layer's bucketed relative position bias, (n, T, T), computed once for the input's length.
    private string RelativePositionBias(string hidden)
    {
        int half = _c.NumBuckets / 2, maxExact = half / 2;
        string positions = _g.Node("Range", [_g.Int64(0), FrameCount(hidden), _g.Int64(1)]);
        string relative = _g.Node("Sub", [_g.Node("Unsqueeze", [positions, _g.Int64s(0)]), _g.Node("Unsqueeze", [positions, _g.Int64s(1)])]);   // key - query
        string direction = _g.Node("Mul", [_g.Cast(_g.Node("Greater", [relative, _g.Int64(0)]), TensorProto.Types.DataType.Int64), _g.Int64(half)]);
        string distance = _g.Node("Abs", [relative]);
        string distanceF = _g.Cast(distance, TensorProto.Types.DataType.Float);
        // Hugging Face's float32 arithmetic: log(d / max_exact) / log(max_distance / max_exact) * (half - max_exact).
        string logRatio = _g.Node("Log", [_g.Node("Div", [distanceF, _g.Scalar(maxExact)])]);
        string scaled = _g.Node("Mul", [_g.Node("Div", [logRatio, _g.Scalar((float)Math.Log((double)_c.MaxBucketDistance / maxExact))]), _g.Scalar(half - maxExact)]);
        string large = _g.Cast(_g.Node("Add", [_g.Scalar(maxExact), scaled]), TensorProto.Types.DataType.Int64);
        large = _g.Node("Min", [large, _g.Int64(half - 1)]);
        string small = _g.Node("Less", [distance, _g.Int64(maxExact)]);
        string bucket = _g.Node("Add", [direction, _g.Node("Where", [small, distance, large])]);
        const string embedding = "encoder.layers.0.attention.rel_attn_embed.weight";
        string values = _g.Node("Gather", [Parameter(_weights[embedding], embedding), bucket], null, ("axis", 0L));   // (T, T, n)
        return _g.Transpose(values, 2, 0, 1);
    }

    // Per head and query frame, a(g c - 1) + 2 from an 8-way projection of the attention input scales the bias row.
    private string GatedPositionBias(string x, string prefix, string positionBias)
    {
        string projected = Linear(Heads(x, 0, 2, 1, 3), prefix + ".gru_rel_pos_linear");   // (B, n, T, 8)
        string pairs = _g.Node("ReduceSum", [_g.Node("Reshape", [projected, _g.Int64s(0, 0, 0, 2, 4)]), _g.Int64s(-1)], null, ("keepdims", 0L));
        string[] gates = _g.Nodes("Split", [_g.Node("Sigmoid", [pairs]), _g.Int64s(1, 1)], 2, null, ("axis", -1L));
        string constant = Parameter(_weights[prefix + ".gru_rel_pos_const"], prefix + ".gru_rel_pos_const");
        string gate = _g.Node("Add", [_g.Node("Mul", [gates[0], _g.Node("Sub", [_g.Node("Mul", [gates[1], constant]), _g.Scalar(1f)])]), _g.Scalar(2f)]);
        return _g.Node("Mul", [gate, _g.Node("Unsqueeze", [positionBias, _g.Int64s(0)])]);
    }
}
