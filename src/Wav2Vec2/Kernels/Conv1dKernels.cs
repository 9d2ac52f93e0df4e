
namespace Wav2Vec2.Kernels;

/// <summary>Geometry of a 1-D convolution: input (batch, inChannels, inLength), weight (outChannels, inChannels / groups, kernel).</summary>
internal readonly record struct Conv1dShape(int Batch, int InChannels, int InLength, int OutChannels, int Kernel,
    int Stride, int Padding, int Groups)
{
    /// <summary>floor((inLength + 2 * padding - kernel) / stride) + 1, or 0 when the kernel does not fit.</summary>
    public int OutLength => InLength + 2 * Padding < Kernel ? 0 : (InLength + 2 * Padding - Kernel) / Stride + 1;

    /// <summary>Input channels seen by one group.</summary>
    public int GroupInChannels => InChannels / Groups;

    /// <summary>Output channels produced by one group.</summary>
    public int GroupOutChannels => OutChannels / Groups;

    /// <summary>Rows of the unfolded (im2col) input of one group: GroupInChannels * Kernel.</summary>
    public int PatchSize => GroupInChannels * Kernel;
}

/// <summary>
/// Conv1d as im2col + GEMM, tiled along output time so the unfolded buffer stays small for long audio.
/// <see cref="ForwardReference"/> is the direct scalar twin.
/// </summary>
internal static class Conv1dKernels
{
    private const int TimeTile = 1024;

    /// <summary>y (batch, outChannels, outLength) = conv(x, w) + bias (bias may be empty).</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Conv1dShape s,
        Span<float> y)
    {
        int outLength = s.OutLength, patch = s.PatchSize, outPerGroup = s.GroupOutChannels;
        float[] columns = BufferPool.Rent(Math.Max(1, patch * Math.Min(TimeTile, outLength)));
        try
        {
            for (int b = 0; b < s.Batch; b++)
            {
                for (int g = 0; g < s.Groups; g++)
                {
                    ReadOnlySpan<float> wg = w.Slice(g * outPerGroup * patch, outPerGroup * patch); // (outPerGroup, patch)
                    for (int t0 = 0; t0 < outLength; t0 += TimeTile)
                    {
                        int tile = Math.Min(TimeTile, outLength - t0);
                        Span<float> cols = columns.AsSpan(0, patch * tile); // (patch, tile)
                        Unfold(x, s, b, g, t0, tile, cols);
                        Span<float> yTile = y.Slice(((b * s.OutChannels) + g * outPerGroup) * outLength + t0);
                        Gemm.Sgemm(false, false, outPerGroup, tile, patch, 1f, wg, patch, cols, tile, 0f, yTile, outLength);
                    }
                }
                if (bias.Length > 0)
                    for (int c = 0; c < s.OutChannels; c++)
                        System.Numerics.Tensors.TensorPrimitives.Add(y.Slice((b * s.OutChannels + c) * outLength, outLength),
                            bias[c], y.Slice((b * s.OutChannels + c) * outLength, outLength));
            }
        }
        finally
        {
            BufferPool.Return(columns);
        }
    }

    /// <summary>Adds the gradients of <see cref="Forward"/> to dx, dw and dbias (each skipped when empty).</summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w, Conv1dShape s,
        Span<float> dx, Span<float> dw, Span<float> dbias)
    {
        int outLength = s.OutLength, patch = s.PatchSize, outPerGroup = s.GroupOutChannels;
        int tileMax = Math.Max(1, Math.Min(TimeTile, outLength));
        float[] columns = BufferPool.Rent(patch * tileMax);
        try
        {
            for (int b = 0; b < s.Batch; b++)
            {
                for (int g = 0; g < s.Groups; g++)
                {
                    ReadOnlySpan<float> wg = w.Slice(g * outPerGroup * patch, outPerGroup * patch);
                    for (int t0 = 0; t0 < outLength; t0 += TimeTile)
                    {
                        int tile = Math.Min(TimeTile, outLength - t0);
                        Span<float> cols = columns.AsSpan(0, patch * tile);
                        ReadOnlySpan<float> dyTile = dy.Slice(((b * s.OutChannels) + g * outPerGroup) * outLength + t0);
                        if (dw.Length > 0)
                        {
                            Unfold(x, s, b, g, t0, tile, cols);
                            Gemm.Sgemm(false, true, outPerGroup, patch, tile, 1f, dyTile, outLength, cols, tile, 1f,
                                dw.Slice(g * outPerGroup * patch, outPerGroup * patch), patch);
                        }
                        if (dx.Length > 0)
                        {
                            Gemm.Sgemm(true, false, patch, tile, outPerGroup, 1f, wg, patch, dyTile, outLength, 0f, cols, tile);
                            FoldAdd(cols, s, b, g, t0, tile, dx);
                        }
                    }
                }
                if (dbias.Length > 0)
                    for (int c = 0; c < s.OutChannels; c++)
                        dbias[c] += System.Numerics.Tensors.TensorPrimitives.Sum(dy.Slice((b * s.OutChannels + c) * outLength, outLength));
            }
        }
        finally
        {
            BufferPool.Return(columns);
        }
    }

    /// <summary>Direct convolution, the scalar twin of <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias,
        Conv1dShape s, Span<float> y)
    {
        int outLength = s.OutLength, inPerGroup = s.GroupInChannels, outPerGroup = s.GroupOutChannels;
        for (int b = 0; b < s.Batch; b++)
            for (int o = 0; o < s.OutChannels; o++)
                for (int t = 0; t < outLength; t++)
                {
                    double sum = bias.Length > 0 ? bias[o] : 0;
                    int g = o / outPerGroup;
                    for (int ci = 0; ci < inPerGroup; ci++)
                        for (int k = 0; k < s.Kernel; k++)
                        {
                            int at = t * s.Stride + k - s.Padding;
                            if (at >= 0 && at < s.InLength)
                                sum += (double)w[(o * inPerGroup + ci) * s.Kernel + k]
                                       * x[(b * s.InChannels + g * inPerGroup + ci) * s.InLength + at];
                        }
                    y[(b * s.OutChannels + o) * outLength + t] = (float)sum;
                }
    }

    // cols[(ci * kernel + k), t] = x[b, g * inPerGroup + ci, (t0 + t) * stride + k - padding], zero outside.
    private static void Unfold(ReadOnlySpan<float> x, Conv1dShape s, int b, int g, int t0, int tile, Span<float> cols)
    {
        using var _ = Diagnostics.StageProfiler.Enter("copies/transposes");
        int inPerGroup = s.GroupInChannels;
        for (int ci = 0; ci < inPerGroup; ci++)
        {
            ReadOnlySpan<float> channel = x.Slice((b * s.InChannels + g * inPerGroup + ci) * s.InLength, s.InLength);
            for (int k = 0; k < s.Kernel; k++)
            {
                Span<float> row = cols.Slice((ci * s.Kernel + k) * tile, tile);
                int start = t0 * s.Stride + k - s.Padding;
                if (s.Stride == 1 && start >= 0 && start + tile <= s.InLength)
                {
                    channel.Slice(start, tile).CopyTo(row);
                    continue;
                }
                for (int t = 0; t < tile; t++)
                {
                    int at = start + t * s.Stride;
                    row[t] = (uint)at < (uint)s.InLength ? channel[at] : 0f;
                }
            }
        }
    }

    // The adjoint of Unfold: dx[b, channel, at] += cols[row, t].
    private static void FoldAdd(ReadOnlySpan<float> cols, Conv1dShape s, int b, int g, int t0, int tile, Span<float> dx)
    {
        using var _ = Diagnostics.StageProfiler.Enter("copies/transposes");
        int inPerGroup = s.GroupInChannels;
        for (int ci = 0; ci < inPerGroup; ci++)
        {
            Span<float> channel = dx.Slice((b * s.InChannels + g * inPerGroup + ci) * s.InLength, s.InLength);
            for (int k = 0; k < s.Kernel; k++)
            {
                ReadOnlySpan<float> row = cols.Slice((ci * s.Kernel + k) * tile, tile);
                int start = t0 * s.Stride + k - s.Padding;
                for (int t = 0; t < tile; t++)
                {
                    int at = start + t * s.Stride;
                    if ((uint)at < (uint)s.InLength)
                        channel[at] += row[t];
                }
            }
        }
    }
}
