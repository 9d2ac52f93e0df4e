using System.Runtime.Intrinsics;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Dynamic quantisation of activations to u8 with a zero point (value = scale * (q - zero)), q in [0, levels]: 255, or
/// 127 for the int8 paths that sum four products in int16 (<see cref="Int8Gemm.ActivationLevels"/>).
/// </summary>
internal static class ActivationQuantizer
{
    /// <summary>The full range of q: [0, 255].</summary>
    public const int FullLevels = 255;

    /// <summary>The range the vpmaddubsw paths read: [0, 127] (see <see cref="Int8Weights.ReducedRange"/>).</summary>
    public const int ReducedLevels = 127;

    // Below this many values per thread, fanning out costs more than it saves.
    private const long MinValuesPerThread = 1L << 16;

    /// <summary>
    /// The scale and zero point that map [min(lo, 0), max(hi, 0)] onto [0, levels] (zero exactly representable, as the
    /// padding and ReLU/GELU zeros need). NaN or infinite bounds give a NaN scale, which makes the product NaN.
    /// </summary>
    public static (float Scale, int Zero) Range(float lo, float hi, int levels = FullLevels)
    {
        lo = MathF.Min(lo, 0f);
        hi = MathF.Max(hi, 0f);
        if (!float.IsFinite(lo) || !float.IsFinite(hi))
            return (float.NaN, 0);
        if (hi == lo)
            return (1f, 0);
        float scale = (hi - lo) / levels;
        return (scale, Math.Clamp((int)MathF.Round(-lo / scale), 0, levels));
    }

    /// <summary>
    /// Quantises each of <paramref name="rows"/> rows of x (<paramref name="columns"/> values each, contiguous) with its
    /// own range into q (row r at r * <paramref name="stride"/>) to the levels the effective int8 path reads, its scale
    /// and zero point into the arrays.
    /// </summary>
    public static QuantizedRows QuantizeRows(ReadOnlySpan<float> x, int rows, int columns, int stride, byte[] q)
    {
        if (x.Length != (long)rows * columns)
            throw new ArgumentException($"{x.Length} values are not {rows} rows of {columns}.");
        var result = new QuantizedRows(q, rows, stride, new float[rows], new int[rows], Levels: Int8Gemm.ActivationLevels);
        QuantizeRows(x, columns, result, 0);
        return result;
    }

    /// <summary>
    /// Quantises the rows of x (<paramref name="columns"/> values each, contiguous) into rows
    /// <paramref name="firstRow"/>, ... of <paramref name="target"/> (data at row * Stride, scales and zero points at row).
    /// </summary>
    public static unsafe void QuantizeRows(ReadOnlySpan<float> x, int columns, QuantizedRows target, int firstRow)
    {
        int rows = x.Length / Math.Max(1, columns);
        int threads = (int)Math.Clamp((long)rows * columns / MinValuesPerThread, 1, Parallelism.AvailableThreads);
        fixed (float* start = x)
        {
            if (threads == 1)
                QuantizeRows(start, columns, target, firstRow, 0, rows);
            else
            {
                float* values = start;
                Parallelism.For(threads, part =>
                {
                    (int from, int to) = Parallelism.Partition(rows, threads, part);
                    QuantizeRows(values, columns, target, firstRow, from, to);
                });
            }
        }
    }

    private static unsafe void QuantizeRows(float* x, int columns, QuantizedRows target, int firstRow, int from, int to)
    {
        for (int r = from; r < to; r++)
        {
            var row = new ReadOnlySpan<float>(x + (long)r * columns, columns);
            (float lo, float hi) = Bounds(row);
            (float scale, int zero) = Range(lo, hi, target.Levels);
            (target.Scales[firstRow + r], target.Zeros[firstRow + r]) = (scale, zero);
            Quantize(row, scale, zero, target.Data.AsSpan((firstRow + r) * target.Stride, columns), target.Levels);
        }
    }

    /// <summary>The least and the greatest value of a row in one pass (NaN for both when the row holds NaN).</summary>
    internal static (float Lo, float Hi) Bounds(ReadOnlySpan<float> row)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        bool nan = false;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && row.Length >= 8)
        {
            Vector256<float> low = Vector256.Create(lo), high = Vector256.Create(hi);
            Vector256<int> ordered = Vector256<int>.AllBitsSet;
            for (; i <= row.Length - 8; i += 8)
            {
                Vector256<float> v = Vector256.Create(row.Slice(i, 8));
                low = Vector256.MinNative(low, v);
                high = Vector256.MaxNative(high, v);
                ordered &= Vector256.Equals(v, v).AsInt32();               // false in a NaN lane
            }
            nan = ordered != Vector256<int>.AllBitsSet;
            for (int lane = 0; lane < 8; lane++)
                (lo, hi) = (MathF.Min(lo, low.GetElement(lane)), MathF.Max(hi, high.GetElement(lane)));
        }
        for (; i < row.Length; i++)
        {
            nan |= float.IsNaN(row[i]);
            (lo, hi) = (MathF.Min(lo, row[i]), MathF.Max(hi, row[i]));
        }
        return nan ? (float.NaN, float.NaN) : (lo, hi);
    }

    /// <summary>
    /// q[i] = clamp(round(x[i] / scale) + zero, 0, levels), rounding half to even; NaN maps to 0 (the NaN scale marks it).
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, float scale, int zero, Span<byte> q, int levels = FullLevels)
    {
        float inverse = 1f / scale;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> inv = Vector256.Create(inverse), z = Vector256.Create((float)zero);
            Vector256<float> top = Vector256.Create((float)levels);
            for (; i <= x.Length - 16; i += 16)
            {
                Vector256<int> lo = Bytes(Vector256.Create(x.Slice(i, 8)), inv, z, top);
                Vector256<int> hi = Bytes(Vector256.Create(x.Slice(i + 8, 8)), inv, z, top);
                Vector256<ushort> words = Vector256.Narrow(lo.AsUInt32(), hi.AsUInt32());
                Vector128<byte> bytes = Vector128.Narrow(words.GetLower(), words.GetUpper());
                bytes.CopyTo(q.Slice(i, 16));
            }
        }
        for (; i < x.Length; i++)
        {
            float v = MathF.Round(x[i] * inverse) + zero;
            q[i] = (byte)(v >= 0f ? MathF.Min(v, levels) : 0f);
        }
    }

    // The same arithmetic as the scalar tail: round(x * inverse) + zero, clamped (NaN -> 0 by the max with 0).
    private static Vector256<int> Bytes(Vector256<float> x, Vector256<float> inverse, Vector256<float> zero, Vector256<float> top) =>
        Vector256.ConvertToInt32(Vector256.Min(Vector256.MaxNative(Vector256.Round(x * inverse) + zero, Vector256<float>.Zero), top));
}
