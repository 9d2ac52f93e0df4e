using Wav2Vec2.Autograd;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Nn;

/// <summary>1-D convolution layer over (batch, channels, length), or channels-last (batch, length, channels).</summary>
public sealed class Conv1d : Module
{
    private readonly int _stride, _padding, _groups;

    /// <summary>
    /// Creates a layer with PyTorch's default initialisation, or Kaiming-normal weights (std sqrt(2 / fan_in)) with
    /// <paramref name="kaimingNormal"/>, as Hugging Face initialises the wav2vec 2.0 feature encoder.
    /// </summary>
    public Conv1d(int inChannels, int outChannels, int kernel, RandomSource random, int stride = 1, int padding = 0,
        int groups = 1, bool bias = true, bool kaimingNormal = false)
    {
        (_stride, _padding, _groups) = (stride, padding, groups);
        Weight = AddParameter("weight", outChannels, inChannels / groups, kernel);
        float bound = 1f / MathF.Sqrt(inChannels / groups * kernel);
        if (kaimingNormal)
            Init.Normal(Weight, MathF.Sqrt(2f) * bound, random);
        else
            Init.Uniform(Weight, bound, random);
        if (bias)
        {
            Bias = AddParameter("bias", outChannels);
            Init.Uniform(Bias, bound, random);
        }
        Int8 = new Int8WeightCache(Weight, groups);
    }

    /// <summary>(out, in / groups, kernel).</summary>
    public Parameter Weight { get; }

    /// <summary>(out), or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Applies the convolution to x (batch, channels, length).</summary>
    public Tensor Forward(Tensor x) => Ops.Conv1d(x, Weight, Bias, _stride, _padding, _groups);

    /// <summary>
    /// Applies the convolution to channels-last x (batch, length, channels), giving (batch, length', out); with
    /// <paramref name="gelu"/> followed by GELU (fused when nothing is recorded).
    /// </summary>
    public Tensor ForwardChannelsLast(Tensor x, bool gelu = false)
    {
        // The first layer of a feature encoder reads raw audio through 10 taps: too little work to gain from int8 and
        // the most sensitive input to round, so a one-channel convolution stays fp32.
        if (!RunsInt8 || !QuantisesInt8)
            return Ops.Conv1dChannelsLast(x, Weight, Bias, _stride, _padding, _groups, gelu: gelu);
        return Ops.Int8Conv1dChannelsLast(x, Int8.Taps, _stride, _padding, _padding, Bias, gelu);
    }

    /// <summary>False for a one-channel convolution, which always runs (and is stored) in fp32.</summary>
    internal bool QuantisesInt8 => Weight.Size(1) * _groups > 1;

    /// <summary>The weight's int8 form (derived, or held alone in a model loaded from an int8 directory).</summary>
    internal Int8WeightCache Int8 { get; }

    /// <inheritdoc/>
    private protected override void DropDerivedWeights() => Int8.Drop();
}
