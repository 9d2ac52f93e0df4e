using Wav2Vec2.Autograd;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Nn;

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

    /// <summary>
    /// Normalises channels-last x (batch, length, channels), in place with <paramref name="inPlace"/>, followed by GELU
    /// (in the same pass when nothing is recorded) with <paramref name="gelu"/>.
    /// </summary>
    public Tensor ForwardChannelsLast(Tensor x, bool inPlace = false, bool gelu = false) =>
        Ops.GroupNormChannelsLast(x, _groups, Weight, Bias, _eps, inPlace, gelu);
}
