using Wav2Vec2.Autograd;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Nn;

/// <summary>PyTorch's default initialisation: uniform in +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)).</summary>
public static class Init
{
    /// <summary>Fills <paramref name="tensor"/> with uniform values in [-bound, bound).</summary>
    public static void Uniform(Tensor tensor, float bound, RandomSource random)
    {
        Span<float> values = tensor.Span;
        for (int i = 0; i < values.Length; i++)
            values[i] = (2f * random.NextUniform() - 1f) * bound;
    }

    /// <summary>Fills <paramref name="tensor"/> with normal values of the given standard deviation.</summary>
    public static void Normal(Tensor tensor, float std, RandomSource random)
    {
        Span<float> values = tensor.Span;
        for (int i = 0; i < values.Length; i++)
            values[i] = random.NextNormal() * std;
    }
}

/// <summary>Fully connected layer y = x W^T + b (Hugging Face names: weight, bias).</summary>
public sealed class Linear : Module
{
    /// <summary>
    /// Creates a layer with PyTorch's default initialisation, or, with <paramref name="normalStd"/>, normal weights of
    /// that standard deviation and a zero bias (Hugging Face's initializer_range scheme).
    /// </summary>
    public Linear(int inFeatures, int outFeatures, RandomSource random, bool bias = true, float? normalStd = null)
    {
        Weight = AddParameter("weight", outFeatures, inFeatures);
        float bound = 1f / MathF.Sqrt(inFeatures);
        if (normalStd is float std)
            Init.Normal(Weight, std, random);
        else
            Init.Uniform(Weight, bound, random);
        if (bias)
        {
            Bias = AddParameter("bias", outFeatures);
            if (normalStd is null)
                Init.Uniform(Bias, bound, random);
        }
    }

    /// <summary>(out, in).</summary>
    public Parameter Weight { get; }

    /// <summary>(out), or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Applies the layer to x (..., in).</summary>
    public Tensor Forward(Tensor x) => Ops.Linear(x, Weight, Bias);
}

/// <summary>1-D convolution layer over (batch, channels, length).</summary>
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
    }

    /// <summary>(out, in / groups, kernel).</summary>
    public Parameter Weight { get; }

    /// <summary>(out), or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Applies the convolution.</summary>
    public Tensor Forward(Tensor x) => Ops.Conv1d(x, Weight, Bias, _stride, _padding, _groups);
}

/// <summary>Layer norm over the last dimension with affine weight (ones) and bias (zeros).</summary>
public sealed class LayerNorm : Module
{
    private readonly float _eps;

    /// <summary>Creates the layer; <paramref name="eps"/> as Hugging Face's layer_norm_eps.</summary>
    public LayerNorm(int size, float eps = 1e-5f)
    {
        _eps = eps;
        Weight = AddParameter("weight", size);
        Weight.Span.Fill(1f);
        Bias = AddParameter("bias", size);
    }

    /// <summary>Scale, (size).</summary>
    public Parameter Weight { get; }

    /// <summary>Shift, (size).</summary>
    public Parameter Bias { get; }

    /// <summary>Normalises over dimension <paramref name="dim"/> (default last).</summary>
    public Tensor Forward(Tensor x, int dim = -1) => Ops.LayerNorm(x, Weight, Bias, _eps, dim);
}

/// <summary>Group norm over (batch, channels, length) with per-channel affine weight and bias.</summary>
public sealed class GroupNorm : Module
{
    private readonly int _groups;
    private readonly float _eps;

    /// <summary>Creates the layer (weight ones, bias zeros).</summary>
    public GroupNorm(int groups, int channels, float eps = 1e-5f)
    {
        (_groups, _eps) = (groups, eps);
        Weight = AddParameter("weight", channels);
        Weight.Span.Fill(1f);
        Bias = AddParameter("bias", channels);
    }

    /// <summary>Scale, (channels).</summary>
    public Parameter Weight { get; }

    /// <summary>Shift, (channels).</summary>
    public Parameter Bias { get; }

    /// <summary>Applies the normalisation (overwriting x with <paramref name="inPlace"/>, inference only).</summary>
    public Tensor Forward(Tensor x, bool inPlace = false) => Ops.GroupNorm(x, _groups, Weight, Bias, _eps, inPlace);
}
