namespace Wav2Vec2.Kernels;

/// <summary>Memory-layout kernels: batched 2-D transposes, the building block of every permutation we need.</summary>
internal static class LayoutKernels
{
    private const int Block = 32;

    /// <summary>
    /// For each of <paramref name="batch"/> matrices of rows x cols in <paramref name="source"/>, writes its transpose
    /// (cols x rows) to <paramref name="destination"/>, or adds it when <paramref name="accumulate"/> is set.
    /// Cache-blocked in 32 x 32 tiles.
    /// </summary>
    public static void Transpose(ReadOnlySpan<float> source, int batch, int rows, int cols, Span<float> destination,
        bool accumulate = false)
    {
        int size = rows * cols;
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<float> src = source.Slice(b * size, size);
            Span<float> dst = destination.Slice(b * size, size);
            for (int r0 = 0; r0 < rows; r0 += Block)
            {
                int r1 = Math.Min(rows, r0 + Block);
                for (int c0 = 0; c0 < cols; c0 += Block)
                {
                    int c1 = Math.Min(cols, c0 + Block);
                    for (int r = r0; r < r1; r++)
                    {
                        for (int c = c0; c < c1; c++)
                        {
                            if (accumulate)
                                dst[c * rows + r] += src[r * cols + c];
                            else
                                dst[c * rows + r] = src[r * cols + c];
                        }
                    }
                }
            }
        }
    }
}
