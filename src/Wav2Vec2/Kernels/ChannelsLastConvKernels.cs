namespace Wav2Vec2.Kernels;

/// <summary>
/// Geometry of a channels-last 1-D convolution: input (batch, inLength, inChannels), weight (outChannels,
/// inChannels / groups, kernel) as PyTorch stores it, output (batch, outLength, outChannels); zero padding of
/// <see cref="PadLeft"/> and <see cref="PadRight"/> frames.
/// </summary>
internal readonly record struct ChannelsLastConvShape(int Batch, int InLength, int InChannels, int OutChannels,
    int Kernel, int Stride, int PadLeft, int PadRight, int Groups)
{
    /// <summary>Frames of the zero-padded input.</summary>
    public int PaddedLength => InLength + PadLeft + PadRight;

    /// <summary>floor((paddedLength - kernel) / stride) + 1, or 0 when the kernel does not fit.</summary>
    public int OutLength => PaddedLength < Kernel ? 0 : (PaddedLength - Kernel) / Stride + 1;

    public int GroupInChannels => InChannels / Groups;
    public int GroupOutChannels => OutChannels / Groups;

    /// <summary>Columns of one group's unfolded input: kernel * GroupInChannels, kernel position major.</summary>
    public int PatchSize => Kernel * GroupInChannels;

    public bool Padded => PadLeft > 0 || PadRight > 0;
}

/// <summary>
/// Convolution over channels-last sequences without an unfolded copy: in (time, channel) layout the patch of output
/// frame t is rows [t * stride, t * stride + kernel) of the input, so the unfolded matrix is the input itself read
/// with row stride stride * channels (rows overlap when kernel > stride) and, for grouped convolutions, columns in
/// runs of the group's channels (<see cref="ColumnSegments"/>). Each group is one GEMM against the weight reordered to
/// (out, kernel, in / groups). The backward is two GEMMs per group (weight) and one per kernel position (input).
/// <see cref="ForwardReference"/> is the direct scalar twin.
/// </summary>
internal static class ChannelsLastConvKernels
{
    /// <summary>y (B, T', O) = conv(x (B, T, C), w (O, C / groups, K)) + bias (bias may be empty), then GELU with <paramref name="gelu"/>.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias,
        ChannelsLastConvShape s, Span<float> y, bool gelu = false)
    {
        int outLength = s.OutLength, inPerGroup = s.GroupInChannels, outPerGroup = s.GroupOutChannels, patch = s.PatchSize;
        float[] reordered = BufferPool.Rent(w.Length);
        float[]? padded = s.Padded ? BufferPool.Rent(s.PaddedLength * s.InChannels) : null;
        try
        {
            Span<float> wk = reordered.AsSpan(0, w.Length);                        // (O, K, C / groups)
            LayoutKernels.Transpose(w, s.OutChannels, inPerGroup, s.Kernel, wk);
            var columns = new ColumnSegments(inPerGroup, s.InChannels);
            for (int b = 0; b < s.Batch; b++)
            {
                ReadOnlySpan<float> xb = Input(x, s, b, padded);                   // (T + padding, C)
                Span<float> yb = y.Slice(b * outLength * s.OutChannels, outLength * s.OutChannels);   // (T', O)
                for (int g = 0; g < s.Groups; g++)
                    Gemm.Sgemm(false, true, outLength, outPerGroup, patch, 1f, xb[(g * inPerGroup)..], s.Stride * s.InChannels,
                        wk.Slice(g * outPerGroup * patch, outPerGroup * patch), patch, 0f, yb[(g * outPerGroup)..], s.OutChannels,
                        bias.Length > 0 ? bias.Slice(g * outPerGroup, outPerGroup) : [], columns, default, gelu);
            }
        }
        finally
        {
            BufferPool.Return(reordered);
            if (padded != null)
                BufferPool.Return(padded);
        }
    }

    /// <summary>Adds the gradients of <see cref="Forward"/> to dx, dw and dbias (each skipped when empty).</summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        ChannelsLastConvShape s, Span<float> dx, Span<float> dw, Span<float> dbias)
    {
        int outLength = s.OutLength, inPerGroup = s.GroupInChannels, outPerGroup = s.GroupOutChannels, patch = s.PatchSize;
        int rowStride = s.Stride * s.InChannels, inSize = s.PaddedLength * s.InChannels;
        float[] reordered = BufferPool.Rent(2 * w.Length);
        float[]? padded = s.Padded ? BufferPool.Rent(2 * inSize) : null;
        try
        {
            Span<float> wk = reordered.AsSpan(0, w.Length), dwk = reordered.AsSpan(w.Length, w.Length); // (O, K, C / groups)
            LayoutKernels.Transpose(w, s.OutChannels, inPerGroup, s.Kernel, wk);
            dwk.Clear();
            var columns = new ColumnSegments(inPerGroup, s.InChannels);
            for (int b = 0; b < s.Batch; b++)
            {
                ReadOnlySpan<float> dyb = dy.Slice(b * outLength * s.OutChannels, outLength * s.OutChannels); // (T', O)
                // The input gradient of a padded input goes to a padded scratch first, its interior is then added.
                Span<float> dxb = dx.Length == 0 ? [] : padded != null ? padded.AsSpan(inSize, inSize)
                    : dx.Slice(b * inSize, inSize);                                 // (T + padding, C)
                if (padded != null)
                    dxb.Clear();
                ReadOnlySpan<float> xb = dw.Length > 0 ? Input(x, s, b, padded) : [];
                for (int g = 0; g < s.Groups; g++)
                {
                    ReadOnlySpan<float> dyg = dyb[(g * outPerGroup)..];
                    Span<float> wg = wk.Slice(g * outPerGroup * patch, outPerGroup * patch);   // (O / groups, K * C / groups)
                    // dW_g += dY_g^T X_g, X_g the unfolded input
                    if (dw.Length > 0)
                        Gemm.Sgemm(true, false, outPerGroup, patch, outLength, 1f, dyg, s.OutChannels, xb[(g * inPerGroup)..],
                            rowStride, 1f, dwk.Slice(g * outPerGroup * patch, outPerGroup * patch), patch, default, default, columns);
                    // dX rows t * stride + k += dY_g W_g[:, k], one kernel position at a time (their rows overlap)
                    if (dx.Length > 0)
                        for (int k = 0; k < s.Kernel; k++)
                            Gemm.Sgemm(false, false, outLength, inPerGroup, outPerGroup, 1f, dyg, s.OutChannels,
                                wg[(k * inPerGroup)..], patch, 1f, dxb[(k * s.InChannels + g * inPerGroup)..], rowStride);
                }
                if (padded != null && dx.Length > 0)
                {
                    Span<float> target = dx.Slice(b * s.InLength * s.InChannels, s.InLength * s.InChannels);
                    System.Numerics.Tensors.TensorPrimitives.Add(target,
                        dxb.Slice(s.PadLeft * s.InChannels, target.Length), target);
                }
                if (dbias.Length > 0)
                    for (int t = 0; t < outLength; t++)
                        System.Numerics.Tensors.TensorPrimitives.Add(dbias, dyb.Slice(t * s.OutChannels, s.OutChannels), dbias);
            }
            if (dw.Length > 0)
                LayoutKernels.Transpose(dwk, s.OutChannels, s.Kernel, inPerGroup, dw, accumulate: true);
        }
        finally
        {
            BufferPool.Return(reordered);
            if (padded != null)
                BufferPool.Return(padded);
        }
    }

    /// <summary>Direct convolution, the scalar twin of <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias,
        ChannelsLastConvShape s, Span<float> y)
    {
        int outLength = s.OutLength, inPerGroup = s.GroupInChannels, outPerGroup = s.GroupOutChannels;
        for (int b = 0; b < s.Batch; b++)
            for (int t = 0; t < outLength; t++)
                for (int o = 0; o < s.OutChannels; o++)
                {
                    double sum = bias.Length > 0 ? bias[o] : 0;
                    int g = o / outPerGroup;
                    for (int k = 0; k < s.Kernel; k++)
                    {
                        int at = t * s.Stride + k - s.PadLeft;
                        if (at < 0 || at >= s.InLength)
                            continue;
                        for (int c = 0; c < inPerGroup; c++)
                            sum += (double)w[(o * inPerGroup + c) * s.Kernel + k]
                                   * x[(b * s.InLength + at) * s.InChannels + g * inPerGroup + c];
                    }
                    y[(b * outLength + t) * s.OutChannels + o] = (float)sum;
                }
    }

    // Item b's input, copied into the zero-padded scratch when the convolution pads.
    private static ReadOnlySpan<float> Input(ReadOnlySpan<float> x, ChannelsLastConvShape s, int b, float[]? padded)
    {
        int size = s.InLength * s.InChannels;
        ReadOnlySpan<float> xb = x.Slice(b * size, size);
        if (padded == null)
            return xb;
        Span<float> target = padded.AsSpan(0, s.PaddedLength * s.InChannels);
        target[..(s.PadLeft * s.InChannels)].Clear();
        xb.CopyTo(target[(s.PadLeft * s.InChannels)..]);
        target[((s.PadLeft + s.InLength) * s.InChannels)..].Clear();
        return target;
    }
}
