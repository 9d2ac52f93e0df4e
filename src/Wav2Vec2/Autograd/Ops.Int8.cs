using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

// Inference-only int8 forms of Linear and the channels-last convolution (nothing is recorded: the layers fall back to
// fp32 while a tape records).
public static partial class Ops
{
    /// <summary>
    /// y = x W^T + b (then GELU) with W quantised per output channel and each row of x quantised to u8 as it is read
    /// (its own scale and zero point). x is (..., in), y (..., out).
    /// </summary>
    internal static Tensor Int8Linear(Tensor x, Int8Weights weight, Tensor? bias, bool gelu)
    {
        int inFeatures = weight.Columns, outFeatures = weight.Rows, padded = weight.PaddedColumns;
        Require(x.Rank >= 1 && x.Size(-1) == inFeatures, "Linear", $"input {Shape(x)} does not end in {inFeatures} features");
        int rows = x.Length / Math.Max(1, inFeatures);
        int[] shape = x.ShapeArray;
        shape[^1] = outFeatures;
        Tensor y = Tensor.Uninitialized(shape);
        byte[] q = ArrayPool<byte>.Shared.Rent(Math.Max(1, rows * padded));
        try
        {
            Int8Gemm.Multiply(ActivationQuantizer.QuantizeRows(x.Span, rows, inFeatures, padded, q), [weight], y.Span,
                outFeatures, bias == null ? [] : bias.Span, gelu);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(q);
        }
        return y;
    }

    /// <summary>
    /// An ungrouped, unpadded channels-last convolution (the feature encoder's) as one int8 product in kernel segments:
    /// y[t] = sum_j x[t * stride + j] W_j^T, <paramref name="taps"/>[j] being W[:, :, j] quantised. Input frames are
    /// quantised one by one, so each keeps its own range, as a linear layer's rows do.
    /// </summary>
    internal static Tensor Int8Conv1dChannelsLast(Tensor x, Int8Weights[] taps, int stride, Tensor? bias, bool gelu)
    {
        int kernel = taps.Length, channels = taps[0].Columns, padded = taps[0].PaddedColumns;
        Require(x.Rank == 3 && x.Size(2) == channels, "Conv1dChannelsLast", $"input {Shape(x)} does not have {channels} channels");
        var s = new ChannelsLastConvShape(x.Size(0), x.Size(1), channels, taps[0].Rows, kernel, stride, 0, 0, 1);
        Require(s.OutLength > 0, "Conv1dChannelsLast", $"input length {s.InLength} is too short for kernel {kernel}");
        int frames = s.InLength, outLength = s.OutLength, outSize = outLength * s.OutChannels;
        Tensor y = Tensor.Uninitialized(s.Batch, outLength, s.OutChannels);
        byte[] q = ArrayPool<byte>.Shared.Rent(frames * padded);
        try
        {
            for (int b = 0; b < s.Batch; b++)
            {
                QuantizedRows input = ActivationQuantizer.QuantizeRows(x.Span.Slice(b * frames * channels, frames * channels),
                    frames, channels, padded, q);
                // Patch t: frames t * stride .. t * stride + kernel - 1, one segment (and one range) each.
                var patches = input with { Rows = outLength, Stride = stride * padded, Segments = kernel, SegmentStride = padded, ScaleStride = stride };
                Int8Gemm.Multiply(patches, taps, y.Span.Slice(b * outSize, outSize), s.OutChannels, bias == null ? [] : bias.Span, gelu);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(q);
        }
        return y;
    }
}
