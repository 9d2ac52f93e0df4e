using Wav2Vec2.Diagnostics;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// 1-D convolution of channels-last x (batch, length, inChannels) with a PyTorch-layout weight (outChannels,
    /// inChannels / groups, kernel) and optional bias, giving (batch, outLength, outChannels): the same function as
    /// <see cref="Conv1d"/> on the transposed input, without unfolding the input. <paramref name="padding"/> zero frames
    /// on the left and <paramref name="paddingRight"/> (default: as many) on the right. With <paramref name="gelu"/> the
    /// result is GELU(conv), applied as it is stored when nothing is recorded (a separate Gelu op otherwise).
    /// </summary>
    public static Tensor Conv1dChannelsLast(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0,
        int groups = 1, int? paddingRight = null, bool gelu = false)
    {
        if (gelu && Tape.For(x, weight, bias) != null)
            return Gelu(Conv1dChannelsLast(x, weight, bias, stride, padding, groups, paddingRight));
        Require(x.Rank == 3, "Conv1dChannelsLast", $"input must be (batch, length, channels), got {Shape(x)}");
        Require(weight.Rank == 3, "Conv1dChannelsLast", $"weight must be (out, in / groups, kernel), got {Shape(weight)}");
        int right = paddingRight ?? padding;
        Require(stride >= 1 && padding >= 0 && right >= 0 && groups >= 1, "Conv1dChannelsLast",
            $"invalid stride {stride}, padding {padding}/{right} or groups {groups}");
        var s = new ChannelsLastConvShape(x.Size(0), x.Size(1), x.Size(2), weight.Size(0), weight.Size(2), stride, padding,
            right, groups);
        Require(s.InChannels % groups == 0 && s.OutChannels % groups == 0, "Conv1dChannelsLast",
            $"channels {s.InChannels} -> {s.OutChannels} are not divisible by groups {groups}");
        Require(weight.Size(1) == s.GroupInChannels, "Conv1dChannelsLast",
            $"weight {Shape(weight)} expects {weight.Size(1) * groups} input channels, input has {s.InChannels}");
        Require(bias == null || bias.Length == s.OutChannels, "Conv1dChannelsLast", $"bias must have {s.OutChannels} elements");
        Require(s.OutLength > 0, "Conv1dChannelsLast",
            $"input length {s.InLength} is too short for kernel {s.Kernel} with padding {padding}/{right}");
        Tensor y = Tensor.Uninitialized(s.Batch, s.OutLength, s.OutChannels);
        ChannelsLastConvKernels.Forward(x.Span, weight.Span, bias == null ? [] : bias.Span, s, y.Span, gelu);

        return Recorded(Tape.For(x, weight, bias), y, dy => ChannelsLastConvKernels.Backward(dy.Span, x.Span, weight.Span, s,
            x.RequiresGrad ? x.GradSpan() : [], weight.RequiresGrad ? weight.GradSpan() : [],
            bias?.RequiresGrad == true ? bias.GradSpan() : []));
    }

    /// <summary>
    /// Group norm of channels-last x (batch, length, channels) with <paramref name="groups"/> groups of consecutive
    /// channels and per-channel affine gamma/beta: <see cref="GroupNorm"/> on the transposed input. With
    /// <paramref name="inPlace"/> the result overwrites x (inference only). With <paramref name="gelu"/> the result is
    /// GELU(norm), in the same pass when nothing is recorded (a separate Gelu op otherwise).
    /// </summary>
    public static Tensor GroupNormChannelsLast(Tensor x, int groups, Tensor? gamma, Tensor? beta, float eps = 1e-5f,
        bool inPlace = false, bool gelu = false)
    {
        if (gelu && Tape.For(x, gamma, beta) != null)
            return Gelu(GroupNormChannelsLast(x, groups, gamma, beta, eps));
        using var _ = StageProfiler.Enter("norms");
        Require(x.Rank == 3, "GroupNormChannelsLast", $"input must be (batch, length, channels), got {Shape(x)}");
        int batch = x.Size(0), length = x.Size(1), channels = x.Size(2);
        Require(length > 0, "GroupNormChannelsLast", "input has no frames");
        (Tensor y, Tensor mean, Tensor rstd) = GroupNormOutputs("GroupNormChannelsLast", x, batch, channels, groups, gamma,
            beta, inPlace);
        ChannelsLastNormKernels.GroupNormForward(x.Span, batch, length, channels, groups, gamma == null ? [] : gamma.Span,
            beta == null ? [] : beta.Span, eps, y.Span, mean.Span, rstd.Span, gelu);

        return Recorded(Tape.For(x, gamma, beta), y, dy => ChannelsLastNormKernels.GroupNormBackward(dy.Span, x.Span, batch,
            length, channels, groups, gamma == null ? [] : gamma.Span, mean.Span, rstd.Span, x.RequiresGrad ? x.GradSpan() : [],
            gamma?.RequiresGrad == true ? gamma.GradSpan() : [], beta?.RequiresGrad == true ? beta.GradSpan() : []), mean, rstd);
    }
}
