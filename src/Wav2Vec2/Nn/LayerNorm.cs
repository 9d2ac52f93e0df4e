using Wav2Vec2.Autograd;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Nn;

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

    /// <summary>Normalises x + <paramref name="residual"/> over the last dimension (<see cref="Ops.AddLayerNorm"/>).</summary>
    public Tensor Forward(Tensor x, Tensor residual) => Ops.AddLayerNorm(x, residual, Weight, Bias, _eps);
}
