using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Packing of GEMM operands into panels: for each group of <c>width</c> items (rows of op(A), MR of them, or columns
/// of op(B), NR), kc steps of <c>width</c> consecutive values, zero-padded past the last item. The same two routines
/// serve both operands: items are either contiguous in memory (A transposed, B as stored: a row copy per step) or
/// strided (A as stored, B transposed, e.g. a linear layer's weight: an 8 x 8 register transpose per 8 steps).
/// Columns of a stored operand may be segmented (<see cref="ColumnSegments"/>): that is how a convolution reads its
/// input as the unfolded (im2col) matrix without building it.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Floats a packed panel may be written past its end (a narrow transpose group stores 8 values).</summary>
    public const int Slack = 8;

    /// <summary>
    /// Packs items [start, start + count) over steps [pc, pc + kc) into panels of <paramref name="width"/>. With
    /// <paramref name="itemsContiguous"/> element (item i, step p) is at src[p * ld + col(i)], else at
    /// src[i * ld + col(p)], col being the column layout <paramref name="columns"/>. <paramref name="fast"/> allows the
    /// vector copies and the AVX transpose (the portable path keeps the scalar loops, as its twin).
    /// </summary>
    public static void Pack(float* src, int ld, bool itemsContiguous, ColumnSegments columns, int pc, int start, int kc,
        int count, int width, bool fast, float* dst)
    {
        if (itemsContiguous)
        {
            if (columns.IsContiguous)
                CopySteps(src + (long)pc * ld + start, ld, count, width, kc, fast, dst);
            else
                CopySegmentedSteps(src + (long)pc * ld, ld, columns, start, count, width, kc, dst);
            return;
        }
        for (int i0 = 0; i0 < count; i0 += width)
        {
            int valid = Math.Min(width, count - i0);
            float* rows = src + (long)(start + i0) * ld;
            float* panel = dst + (long)i0 * kc;
            if (fast && Avx.IsSupported)
                TransposeSteps(rows, ld, columns, pc, valid, width, kc, panel);
            else
                GatherSteps(rows, ld, columns, pc, valid, width, 0, kc, panel);
        }
    }

    // panel(i0)[p * width + r] = s[p * ld + i0 + r] for every panel, step by step so that each source row is read
    // once, front to back; zero past the last item.
    private static void CopySteps(float* s, int ld, int count, int width, int kc, bool fast, float* dst)
    {
        int full = fast && width >= 4 ? count / width * width : 0;
        for (int p = 0; p < kc; p++)
        {
            float* from = s + (long)p * ld;
            for (int i0 = 0; i0 < full; i0 += width)
                CopyItems(from + i0, dst + (long)i0 * kc + p * width, width);
            for (int i0 = full; i0 < count; i0 += width)
            {
                int valid = Math.Min(width, count - i0);
                float* to = dst + (long)i0 * kc + p * width;
                Unsafe.CopyBlockUnaligned(to, from + i0, (uint)(valid * sizeof(float)));
                if (valid < width)
                    new Span<float>(to + valid, width - valid).Clear();
            }
        }
    }

    /// <summary>
    /// <see cref="Pack"/> of items contiguous in bfloat16 storage (B as stored, from its first item and step): each
    /// value widened to fp32 (exact) as it is copied.
    /// </summary>
    public static void PackBf16(ushort* s, int ld, int kc, int count, int width, float* dst)
    {
        for (int p = 0; p < kc; p++)
            for (int i0 = 0; i0 < count; i0 += width)
            {
                int valid = Math.Min(width, count - i0);
                float* to = dst + (long)i0 * kc + p * width;
                BFloat16.Widen(new ReadOnlySpan<ushort>(s + (long)p * ld + i0, valid), new Span<float>(to, valid));
                if (valid < width)
                    new Span<float>(to + valid, width - valid).Clear();
            }
    }

    // CopySteps over segmented items: each panel row is copied in runs that stay inside one segment.
    private static void CopySegmentedSteps(float* s, int ld, ColumnSegments columns, int start, int count, int width,
        int kc, float* dst)
    {
        for (int p = 0; p < kc; p++)
        {
            float* from = s + (long)p * ld;
            for (int i0 = 0; i0 < count; i0 += width)
            {
                int valid = Math.Min(width, count - i0);
                float* to = dst + (long)i0 * kc + p * width;
                for (int r = 0; r < valid;)
                {
                    int run = Math.Min(valid - r, columns.RunFrom(start + i0 + r));
                    Unsafe.CopyBlockUnaligned(to + r, from + columns.Offset(start + i0 + r), (uint)(run * sizeof(float)));
                    r += run;
                }
                if (valid < width)
                    new Span<float>(to + valid, width - valid).Clear();
            }
        }
    }

    // Whole vectors, the last one overlapping the previous when width is not a multiple of the vector (MR = 6, 12).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyItems(float* from, float* to, int width)
    {
        if (width < 8)
        {
            Vector128.Store(Vector128.Load(from), to);
            Vector128.Store(Vector128.Load(from + width - 4), to + width - 4);
            return;
        }
        for (int j = 0; j < width - 8; j += 8)
            Vector256.Store(Vector256.Load(from + j), to + j);
        Vector256.Store(Vector256.Load(from + width - 8), to + width - 8);
    }

    // panel[p * width + r] = rows[r * ld + col(pc + p)] for steps [p0, kc), zero for r >= valid.
    private static void GatherSteps(float* rows, int ld, ColumnSegments columns, int pc, int valid, int width, int p0,
        int kc, float* panel)
    {
        for (int r = 0; r < width; r++)
        {
            float* row = rows + (long)r * ld;
            for (int p = p0; p < kc; p++)
                panel[p * width + r] = r < valid ? row[columns.Offset(pc + p)] : 0f;
        }
    }

    private static void TransposeSteps(float* rows, int ld, ColumnSegments columns, int pc, int valid, int width, int kc,
        float* panel)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            if (columns.RunFrom(pc + p) < 8)
            {
                // Eight steps that cross a segment boundary: element by element.
                GatherSteps(rows, ld, columns, pc, valid, width, p, p + 8, panel);
                continue;
            }
            // Groups of 8 items from the last to the first: a group narrower than 8 (MR = 6 or 12) stores 8 values per
            // step and so spills into the next step's first group, which is written after it.
            float* source = rows + columns.Offset(pc + p);
            for (int g = (width - 1) / 8 * 8; g >= 0; g -= 8)
                Transpose8(source + (long)g * ld, ld, Math.Min(8, valid - g), panel + p * width + g, width);
        }
        GatherSteps(rows, ld, columns, pc, valid, width, p, kc, panel);
    }

    /// <summary>
    /// Reads <paramref name="rows"/> (at most 8, the rest taken as zero) rows of 8 floats at stride ld and writes (or with
    /// <paramref name="accumulate"/> adds) column q to dst + q * stride: an 8 x 8 transpose in registers (AVX).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8(float* s, int ld, int rows, float* dst, int stride, bool accumulate = false)
    {
        Vector256<float> r0 = Row(s, ld, 0, rows), r1 = Row(s, ld, 1, rows), r2 = Row(s, ld, 2, rows), r3 = Row(s, ld, 3, rows);
        Vector256<float> r4 = Row(s, ld, 4, rows), r5 = Row(s, ld, 5, rows), r6 = Row(s, ld, 6, rows), r7 = Row(s, ld, 7, rows);
        // Interleave pairs, then quads within 128-bit lanes, then swap lanes.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Put(dst, Avx.Permute2x128(u0, u4, 0x20), accumulate);
        Put(dst + stride, Avx.Permute2x128(u1, u5, 0x20), accumulate);
        Put(dst + 2 * stride, Avx.Permute2x128(u2, u6, 0x20), accumulate);
        Put(dst + 3 * stride, Avx.Permute2x128(u3, u7, 0x20), accumulate);
        Put(dst + 4 * stride, Avx.Permute2x128(u0, u4, 0x31), accumulate);
        Put(dst + 5 * stride, Avx.Permute2x128(u1, u5, 0x31), accumulate);
        Put(dst + 6 * stride, Avx.Permute2x128(u2, u6, 0x31), accumulate);
        Put(dst + 7 * stride, Avx.Permute2x128(u3, u7, 0x31), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* dst, Vector256<float> value, bool accumulate) =>
        Avx.Store(dst, accumulate ? Avx.Add(value, Avx.LoadVector256(dst)) : value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row(float* s, int ld, int r, int rows) =>
        r < rows ? Avx.LoadVector256(s + (long)r * ld) : Vector256<float>.Zero;
}

/// <summary>
/// Column layout of a stored GEMM operand: column j of a row is at (j / Length) * Stride + j % Length, runs of Length
/// contiguous values Stride apart. A channels-last convolution's input read as its unfolded matrix is such an operand
/// (kernel positions Stride = channels apart, Length = channels of one group). <see cref="None"/>: plain columns.
/// </summary>
internal readonly record struct ColumnSegments(int Length, int Stride)
{
    /// <summary>Plain contiguous columns.</summary>
    public static ColumnSegments None => default;

    public bool IsNone => Length == 0;

    /// <summary>True when the columns are plain (no segments, or segments that follow each other without a gap).</summary>
    public bool IsContiguous => Length == 0 || Length == Stride;

    /// <summary>Offset of column <paramref name="column"/> from the start of its row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Offset(int column) => IsContiguous ? column : (long)(column / Length) * Stride + column % Length;

    /// <summary>How many columns from <paramref name="column"/> on are contiguous in memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int RunFrom(int column) => IsContiguous ? int.MaxValue : Length - column % Length;
}
