using System.Buffers;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

// Inference-only int8 forms of Linear and the channels-last convolution (nothing is recorded: the layers fall back to
// fp32 while a tape records).
public static partial class Ops
{
    /// <summary>x W^T + b (then GELU) with W^T given as bfloat16 (in x out): not recorded (inference only).</summary>
    internal static Tensor Bf16Linear(Tensor x, ushort[] transposedWeight, Tensor? bias, bool gelu)
    {
        int inFeatures = x.Rank == 0 ? 0 : x.Size(-1), outFeatures = inFeatures == 0 ? 0 : transposedWeight.Length / inFeatures;
        Require(inFeatures > 0 && outFeatures * inFeatures == transposedWeight.Length, "Linear",
            $"input {Shape(x)} does not fit a weight of {transposedWeight.Length} values");
        int[] shape = x.ShapeArray;
        shape[^1] = outFeatures;
        var output = Tensor.Uninitialized(shape);
        Gemm.SgemmBf16(x.Length / inFeatures, outFeatures, inFeatures, x.Span, inFeatures, transposedWeight, outFeatures,
            output.Span, outFeatures, bias == null ? [] : bias.Span, gelu);
        return output;
    }

    /// <summary>
    /// y = x W^T + b (then GELU) with W quantised per output channel and each row of x quantised to u8 as it is read
    /// (its own scale and zero point). x is (..., in), y (..., out).
    /// </summary>
    internal static Tensor Int8Linear(Tensor x, Int8Weights weight, Tensor? bias, bool gelu) =>
        Int8Linears(x, [(weight, bias)], gelu)[0];

    /// <summary>
    /// <see cref="Int8Linear"/> of one input through several layers of the same input width (attention's q, k and v
    /// projections): x is quantised once.
    /// </summary>
    internal static Tensor[] Int8Linears(Tensor x, IReadOnlyList<(Int8Weights Weight, Tensor? Bias)> layers, bool gelu = false)
    {
        int inFeatures = layers[0].Weight.Columns, padded = layers[0].Weight.PaddedColumns;
        Require(x.Rank >= 1 && x.Size(-1) == inFeatures && layers.All(l => l.Weight.Columns == inFeatures), "Linear",
            $"input {Shape(x)} does not end in {inFeatures} features");
        int rows = x.Length / Math.Max(1, inFeatures);
        byte[] q = ArrayPool<byte>.Shared.Rent(Math.Max(1, rows * padded));
        try
        {
            QuantizedRows quantized = ActivationQuantizer.QuantizeRows(x.Span, rows, inFeatures, padded, q);
            var outputs = new Tensor[layers.Count];
            for (int i = 0; i < layers.Count; i++)
            {
                (Int8Weights weight, Tensor? bias) = layers[i];
                int[] shape = x.ShapeArray;
                shape[^1] = weight.Rows;
                outputs[i] = Tensor.Uninitialized(shape);
                Int8Gemm.Multiply(quantized, [weight], outputs[i].Span, weight.Rows, bias == null ? [] : bias.Span, gelu);
            }
            return outputs;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(q);
        }
    }

    /// <summary>
    /// A channels-last convolution as int8 products, one per group with one segment per kernel tap:
    /// y[t, group g] = sum_j x[t * stride + j - padLeft, group g] W_gj^T, <paramref name="taps"/>[g][j] being W_gj
    /// quantised (<see cref="Int8Convolution.QuantizeTaps"/>). Each input frame's group of channels is quantised with its
    /// own range, as a linear layer's rows are; padding frames are exact zeros.
    /// </summary>
    internal static Tensor Int8Conv1dChannelsLast(Tensor x, Int8Weights[][] taps, int stride, int padLeft, int padRight,
        Tensor? bias, bool gelu)
    {
        int groups = taps.Length, kernel = taps[0].Length, inPerGroup = taps[0][0].Columns, outPerGroup = taps[0][0].Rows;
        int channels = groups * inPerGroup, padded = taps[0][0].PaddedColumns, frameBytes = groups * padded;
        Require(x.Rank == 3 && x.Size(2) == channels, "Conv1dChannelsLast", $"input {Shape(x)} does not have {channels} channels");
        var s = new ChannelsLastConvShape(x.Size(0), x.Size(1), channels, groups * outPerGroup, kernel, stride, padLeft, padRight, groups);
        Require(s.OutLength > 0, "Conv1dChannelsLast", $"input length {s.InLength} is too short for kernel {kernel}");
        int frames = s.InLength, outLength = s.OutLength, outSize = outLength * s.OutChannels, paddedFrames = s.PaddedLength;
        Tensor y = Tensor.Uninitialized(s.Batch, outLength, s.OutChannels);
        // Rows of the quantised input: (padded frame, group), padded bytes each.
        byte[] q = ArrayPool<byte>.Shared.Rent(paddedFrames * frameBytes);
        var input = new QuantizedRows(q, paddedFrames * groups, padded, new float[paddedFrames * groups], new int[paddedFrames * groups],
            Levels: Int8Gemm.ActivationLevels);
        try
        {
            Array.Clear(q, 0, padLeft * frameBytes);
            Array.Clear(q, (padLeft + frames) * frameBytes, padRight * frameBytes);
            Array.Fill(input.Scales, 1f);
            for (int b = 0; b < s.Batch; b++)
            {
                ActivationQuantizer.QuantizeRows(x.Span.Slice(b * frames * channels, frames * channels), inPerGroup, input, padLeft * groups);
                Span<float> yb = y.Span.Slice(b * outSize, outSize);
                for (int g = 0; g < groups; g++)
                {
                    // Patch t of group g: segment j is frame t * stride + j's group g.
                    var patches = input with
                    {
                        Rows = outLength, Stride = stride * frameBytes, Segments = kernel, SegmentStride = frameBytes, Start = g * padded,
                        ScaleStride = stride * groups, SegmentScaleStride = groups, ScaleStart = g,
                    };
                    Int8Gemm.Multiply(patches, taps[g], yb[(g * outPerGroup)..], s.OutChannels,
                        bias == null ? [] : bias.Span.Slice(g * outPerGroup, outPerGroup), gelu);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(q);
        }
        return y;
    }
}
