using System.Buffers;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

// Inference attention with int8 products (Precision.Int8): both products of every head in 8-bit integers through
// Int8Gemm, the softmax in fp32.
internal static partial class AttentionKernels
{
    // Packed bytes of quantised keys or values a thread keeps for its next head (1 MB: 16k frames at head size 64).
    private const int MaxReusedBytes = 1 << 20;

    // The quantised keys and values of the head a thread runs, whose pinned arrays the next head reuses.
    [ThreadStatic] private static Int8Weights? _keys, _values;

    /// <summary>
    /// <see cref="Forward"/> for inference (no dropout, nothing saved) with int8 products. Scores: each (frame, head)
    /// row of q quantised to u8 as a linear layer's input is (the scale folded into its scale) against each head's
    /// keys quantised per key as weights. Softmax in fp32, its exponentials exp(s - max) (in [0, 1]) quantised on the
    /// fixed scale 1 / levels; the output is (P_q V_q) / sum with each head's values quantised per channel over the
    /// keys. WavLM's bias and padded keys are handled as in <see cref="Forward"/>.
    /// </summary>
    public static unsafe void ForwardInt8(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<bool> keyPadding, AttentionShape s, float scale, Span<float> output, ReadOnlySpan<float> bias = default)
    {
        int t = s.Length, d = s.HeadDim, md = s.ModelDim, heads = s.Heads;
        int dPadded = Int8Weights.Padded(d), tPadded = Int8Weights.Padded(t), levels = Int8Gemm.ActivationLevels;
        int qRows = s.Batch * t * heads;
        byte[] qBytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, checked(qRows * dPadded)));
        try
        {
            // q as (batch * length * heads) rows of headDim: head h of frame i is row i * heads + h.
            QuantizedRows queries = ActivationQuantizer.QuantizeRows(q, qRows, d, dPadded, qBytes);
            System.Numerics.Tensors.TensorPrimitives.Multiply(queries.Scales, scale, queries.Scales);
            fixed (float* pk = k, pv = v, po = output, pb = bias)
            fixed (bool* pm = keyPadding)
            {
                nint ak = (nint)pk, av = (nint)pv, ao = (nint)po, am = (nint)pm, ab = (nint)pb;
                bool masked = keyPadding.Length > 0, biased = bias.Length > 0;
                Parallelism.For(s.Batch * heads, bh =>
                {
                    int b = bh / heads, h = bh % heads;
                    long headOffset = (long)b * t * md + h * d;
                    var oh = new Span<float>((float*)ao + headOffset, RowSpan(t, md, d));
                    int rowBlock = InferenceRowBlock(t);
                    float[] scratch = BufferPool.Rent(rowBlock * t);
                    byte[] probabilities = ArrayPool<byte>.Shared.Rent(rowBlock * tPadded);
                    float[] rowScales = ArrayPool<float>.Shared.Rent(rowBlock);
                    int[] zeros = ArrayPool<int>.Shared.Rent(rowBlock);
                    try
                    {
                        Array.Clear(zeros, 0, rowBlock);
                        Int8Weights keys = QuantizeHead((float*)ak + headOffset, t, d, md, transpose: false, Int8Gemm.WeightRange, ref _keys);
                        Int8Weights values = QuantizeHead((float*)av + headOffset, t, d, md, transpose: true, Int8Gemm.WeightRange, ref _values);
                        for (int r0 = 0; r0 < t; r0 += rowBlock)
                        {
                            int rows = Math.Min(rowBlock, t - r0);
                            Span<float> p = scratch.AsSpan(0, rows * t);
                            var blockQueries = queries with
                            {
                                Rows = rows, Start = checked(((b * t + r0) * heads + h) * dPadded), Stride = heads * dPadded,
                                ScaleStart = (b * t + r0) * heads + h, ScaleStride = heads,
                            };
                            Int8Gemm.Multiply(blockQueries, [keys], p, t, [], gelu: false);
                            BiasAndMask(p, rows, t, biased ? new ReadOnlySpan<float>((float*)ab + (long)bh * t * t + (long)r0 * t, rows * t) : default,
                                masked ? new ReadOnlySpan<bool>((bool*)am + (long)b * t, t) : default);
                            for (int i = 0; i < rows; i++)
                            {
                                float sum = ActivationKernels.QuantizedSoftmaxRow(p.Slice(i * t, t), probabilities.AsSpan(i * tPadded, t), levels);
                                // A query whose keys are all padded (sum 0) has zero probabilities and a zero output.
                                rowScales[i] = sum == 0f ? 0f : 1f / (sum * levels);
                            }
                            var weights = new QuantizedRows(probabilities, rows, tPadded, rowScales, zeros, Levels: levels);
                            Int8Gemm.Multiply(weights, [values], oh[(r0 * md)..], md, [], gelu: false);
                        }
                    }
                    finally
                    {
                        BufferPool.Return(scratch);
                        ArrayPool<byte>.Shared.Return(probabilities);
                        ArrayPool<float>.Shared.Return(rowScales);
                        ArrayPool<int>.Shared.Return(zeros);
                    }
                });
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(qBytes);
        }
    }

    // One head's keys (t x d, rows md apart) quantised per key, or its values transposed (d x t) and quantised per
    // channel, as the weights of a product; `reused` lends its arrays and keeps the result's when they are small.
    private static unsafe Int8Weights QuantizeHead(float* head, int t, int d, int md, bool transpose, int levels, ref Int8Weights? reused)
    {
        Int8Weights result = transpose ? Int8Weights.QuantizeTransposed(head, t, d, md, levels, reused)
            : Int8Weights.Quantize(head, t, d, md, levels, reused);
        if (result.Packed.Length <= MaxReusedBytes)
            reused = result;
        return result;
    }
}
