namespace Wav2Vec2.Kernels;

/// <summary>Memory-layout kernels: batched 2-D transposes, the building block of every permutation we need.</summary>
internal static class LayoutKernels
{
    private const int Block = 32;

    /// <summary>
    /// For each of <paramref name="batch"/> matrices of rows x cols in <paramref name="source"/>, writes its transpose
    /// (cols x rows) to <paramref name="destination"/>, or adds it when <paramref name="accumulate"/> is set.
    /// 8 x 8 register transposes on the AVX paths; <see cref="TransposeReference"/> (32 x 32 cache blocks) elsewhere.
    /// </summary>
    public static unsafe void Transpose(ReadOnlySpan<float> source, int batch, int rows, int cols, Span<float> destination,
        bool accumulate = false)
    {
        bool vector = KernelPaths.Effective is KernelPath.Avx512 or KernelPath.Avx2
                      && System.Runtime.Intrinsics.X86.Avx.IsSupported;
        if (!vector || rows < 8 || cols < 8)
        {
            TransposeReference(source, batch, rows, cols, destination, accumulate);
            return;
        }
        int size = rows * cols;
        fixed (float* src = source, dst = destination)
            for (int b = 0; b < batch; b++)
            {
                float* s = src + (long)b * size, d = dst + (long)b * size;
                int r8 = rows / 8 * 8, c8 = cols / 8 * 8;
                for (int r = 0; r < r8; r += 8)
                    for (int c = 0; c < c8; c += 8)
                        GemmPacking.Transpose8(s + (long)r * cols + c, cols, 8, d + (long)c * rows + r, rows, accumulate);
                // The ragged right and bottom edges, element by element.
                for (int r = 0; r < rows; r++)
                    for (int c = r < r8 ? c8 : 0; c < cols; c++)
                        d[(long)c * rows + r] = s[(long)r * cols + c] + (accumulate ? d[(long)c * rows + r] : 0f);
            }
    }

    /// <summary>Scalar twin of <see cref="Transpose"/>, cache-blocked in 32 x 32 tiles.</summary>
    public static void TransposeReference(ReadOnlySpan<float> source, int batch, int rows, int cols, Span<float> destination,
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
                        for (int c = c0; c < c1; c++)
                            dst[c * rows + r] = src[r * cols + c] + (accumulate ? dst[c * rows + r] : 0f);
                }
            }
        }
    }
}
