using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Wav2Vec2.Threading;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Wav2Vec2.Kernels;

/// <summary>
/// A weight matrix (rows = output channels, columns = inputs) quantised symmetrically per output channel
/// (w = scale * q, q in [-127, 127]) and packed for <see cref="Int8Gemm"/>: panels of 16 rows, and inside a panel, for
/// each group of 4 columns, 16 x 4 bytes (what one vpdpbusd pair reads). Columns are padded with zeros to a multiple
/// of 8 (the vpmaddubsw paths take 8 at a time) and rows to a multiple of 16. Each row's sum of q corrects for the activations' zero points.
/// </summary>
internal sealed unsafe class Int8Weights
{
    /// <summary>Rows of one packed panel (the columns of C one tile computes).</summary>
    public const int PanelWidth = 16;

    /// <summary>The full range of q: [-127, 127].</summary>
    public const int FullRange = 127;

    /// <summary>
    /// The range that keeps the vpmaddubsw paths' int16 sums of four products from saturating (with activations up to
    /// <see cref="ActivationQuantizer.ReducedLevels"/>: 4 x 127 x 64 &lt; 32768).
    /// </summary>
    public const int ReducedRange = 64;

    private Int8Weights(int rows, int columns, int range, sbyte[] packed, float[] scales, int[] rowSums)
    {
        (Rows, Columns, Range, Packed, Scales, RowSums) = (rows, columns, range, packed, scales, rowSums);
    }

    public int Rows { get; }
    public int Columns { get; }

    /// <summary>The largest |q|: <see cref="FullRange"/>, or <see cref="ReducedRange"/> for the AVX-512 path.</summary>
    public int Range { get; }

    /// <summary>Columns rounded up to a multiple of 8: the bytes a row of activations must offer.</summary>
    public int PaddedColumns => Padded(Columns);

    // Pinned (allocated on the pinned heap), padded to whole panels: the kernels read them through pointers.
    public sbyte[] Packed { get; }
    public float[] Scales { get; }
    public int[] RowSums { get; }

    /// <summary>The packed panel whose first row is <paramref name="row"/> (a multiple of <see cref="PanelWidth"/>).</summary>
    public sbyte* PackedAt(int row) => (sbyte*)Unsafe.AsPointer(ref Packed[0]) + (long)row * PaddedColumns;

    public float* ScalesAt(int row) => (float*)Unsafe.AsPointer(ref Scales[row]);

    public int* RowSumsAt(int row) => (int*)Unsafe.AsPointer(ref RowSums[row]);

    public static int Padded(int columns) => (columns + 7) & ~7;

    /// <summary>
    /// Quantises w (rows x columns, row-major) to q in [-range, range] per row (by default the range the effective
    /// kernel path needs, <see cref="Int8Gemm.WeightRange"/>). A row of zeros gets scale 0; a row holding NaN or
    /// infinity gets a NaN scale, so that its outputs are NaN.
    /// </summary>
    public static Int8Weights Quantize(ReadOnlySpan<float> w, int rows, int columns, int? range = null)
    {
        int levels = range ?? Int8Gemm.WeightRange;
        var q = new sbyte[rows * columns];
        float[] scales = QuantizeRows(w, rows, columns, levels, q);
        return Pack(q, scales, rows, columns, levels);
    }

    /// <summary>
    /// Quantises each row of w (rows x columns) symmetrically to q in [-levels, levels] (written to
    /// <paramref name="q"/>) and returns the row scales (w = scale * q): the stored form of an int8 model.
    /// </summary>
    public static float[] QuantizeRows(ReadOnlySpan<float> w, int rows, int columns, int levels, Span<sbyte> q)
    {
        var scales = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = w.Slice(r * columns, columns);
            Span<sbyte> target = q.Slice(r * columns, columns);
            float max = MathF.Abs(TensorPrimitives.MaxMagnitude(row));
            // A row holding NaN or infinity gets a NaN scale: its outputs are NaN, as in fp32, for the inference's
            // non-finite check to report with the tensor's name.
            float scale = float.IsFinite(max) ? max / levels : float.NaN;
            scales[r] = scale;
            if (scale == 0 || float.IsNaN(scale))
            {
                target.Clear();
                continue;
            }
            for (int p = 0; p < columns; p++)
                // Clamped: a subnormal scale can round the largest value one step past the range.
                target[p] = (sbyte)Math.Clamp((int)MathF.Round(row[p] / scale), -levels, levels);
        }
        return scales;
    }

    /// <summary>
    /// Packs stored int8 rows (q in [-127, 127], w = scale * q) for the effective kernel path; a path that needs the
    /// reduced range gets each row requantised to it (so a model stored in int8 runs on every path).
    /// </summary>
    public static Int8Weights FromQuantized(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int rows, int columns)
    {
        int levels = Int8Gemm.WeightRange;
        var values = q.ToArray();
        var rowScales = scales.ToArray();
        for (int r = 0; r < rows && levels < FullRange; r++)
        {
            Span<sbyte> row = values.AsSpan(r * columns, columns);
            int max = 0;
            foreach (sbyte v in row)
                max = Math.Max(max, Math.Abs((int)v));
            if (max <= levels)
                continue;
            rowScales[r] = scales[r] * max / levels;
            for (int p = 0; p < columns; p++)
                row[p] = (sbyte)Math.Clamp((int)MathF.Round(row[p] * (float)levels / max), -levels, levels);
        }
        return Pack(values, rowScales, rows, columns, levels);
    }

    private static Int8Weights Pack(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int rows, int columns, int levels)
    {
        int padded = Padded(columns), panels = (rows + PanelWidth - 1) / PanelWidth;
        var packed = GC.AllocateArray<sbyte>(Math.Max(1, panels * PanelWidth * padded), pinned: true);
        var pinnedScales = GC.AllocateArray<float>(panels * PanelWidth, pinned: true);
        var sums = GC.AllocateArray<int>(panels * PanelWidth, pinned: true);
        scales.CopyTo(pinnedScales);
        for (int r = 0; r < rows; r++)
        {
            int panelBase = r / PanelWidth * PanelWidth * padded, lane = r % PanelWidth, sum = 0;
            for (int p = 0; p < columns; p++)
            {
                sbyte v = q[r * columns + p];
                sum += v;
                packed[panelBase + (p >> 2) * 4 * PanelWidth + lane * 4 + (p & 3)] = v;
            }
            sums[r] = sum;
        }
        return new Int8Weights(rows, columns, levels, packed, pinnedScales, sums);
    }

    /// <summary>The rows as stored (q row-major, rows x columns) and their scales: the inverse of the packing.</summary>
    public void Unpack(Span<sbyte> q, Span<float> scales)
    {
        int padded = PaddedColumns;
        for (int r = 0; r < Rows; r++)
        {
            int panelBase = r / PanelWidth * PanelWidth * padded, lane = r % PanelWidth;
            for (int p = 0; p < Columns; p++)
                q[r * Columns + p] = Packed[panelBase + (p >> 2) * 4 * PanelWidth + lane * 4 + (p & 3)];
        }
        Scales.AsSpan(0, Rows).CopyTo(scales);
    }

    /// <summary>Bytes held (packed values, scales and row sums).</summary>
    public long Bytes => Packed.LongLength + 4L * Scales.Length + 4L * RowSums.Length;
}

/// <summary>
/// A convolution's weights as int8 products: one matrix per group and kernel tap (a linear layer is the case of one
/// group and one tap). Also the stored form of an int8 weight: q in PyTorch's layout (out, in / groups, kernel) and
/// one scale per output channel and tap (out, kernel), w[o, c, j] = scale[o, j] * q[o, c, j], q in [-127, 127].
/// </summary>
internal static class Int8Convolution
{
    /// <summary>
    /// w (out, in / groups, kernel), PyTorch's layout, as [group][tap] matrices W[g * outPerGroup + o, c, tap]
    /// (outPerGroup x in / groups), each quantised per output channel.
    /// </summary>
    public static Int8Weights[][] QuantizeTaps(ReadOnlySpan<float> w, int outChannels, int inPerGroup, int kernel, int groups)
    {
        var tap = new float[outChannels / groups * inPerGroup];
        var taps = NewTaps(groups, kernel);
        for (int g = 0; g < groups; g++)
            for (int j = 0; j < kernel; j++)
            {
                Gather(w, tap, g, j, outChannels / groups, inPerGroup, kernel);
                taps[g][j] = Int8Weights.Quantize(tap, outChannels / groups, inPerGroup);
            }
        return taps;
    }

    /// <summary>The stored form of w (out, in / groups, kernel): q in the same layout and scales (out, kernel).</summary>
    public static (sbyte[] Values, float[] Scales) QuantizeStored(ReadOnlySpan<float> w, int outChannels, int inPerGroup, int kernel, int groups)
    {
        int outPerGroup = outChannels / groups;
        var values = new sbyte[w.Length];
        var scales = new float[outChannels * kernel];
        var tap = new float[outPerGroup * inPerGroup];
        var q = new sbyte[tap.Length];
        for (int g = 0; g < groups; g++)
            for (int j = 0; j < kernel; j++)
            {
                Gather(w, tap, g, j, outPerGroup, inPerGroup, kernel);
                float[] rowScales = Int8Weights.QuantizeRows(tap, outPerGroup, inPerGroup, Int8Weights.FullRange, q);
                Scatter<sbyte>(q, values, g, j, outPerGroup, inPerGroup, kernel);
                for (int o = 0; o < outPerGroup; o++)
                    scales[(g * outPerGroup + o) * kernel + j] = rowScales[o];
            }
        return (values, scales);
    }

    /// <summary>The tap matrices of a stored int8 weight, packed for the effective kernel path.</summary>
    public static Int8Weights[][] FromStored(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> scales, int outChannels, int inPerGroup, int kernel, int groups)
    {
        int outPerGroup = outChannels / groups;
        var taps = NewTaps(groups, kernel);
        var q = new sbyte[outPerGroup * inPerGroup];
        var rowScales = new float[outPerGroup];
        for (int g = 0; g < groups; g++)
            for (int j = 0; j < kernel; j++)
            {
                Gather(values, q, g, j, outPerGroup, inPerGroup, kernel);
                for (int o = 0; o < outPerGroup; o++)
                    rowScales[o] = scales[(g * outPerGroup + o) * kernel + j];
                taps[g][j] = Int8Weights.FromQuantized(q, rowScales, outPerGroup, inPerGroup);
            }
        return taps;
    }

    /// <summary>The stored form of packed tap matrices (the inverse of <see cref="FromStored"/> on a full-range path).</summary>
    public static (sbyte[] Values, float[] Scales) Unpack(Int8Weights[][] taps, int outChannels, int inPerGroup, int kernel)
    {
        int groups = taps.Length, outPerGroup = outChannels / groups;
        var values = new sbyte[outChannels * inPerGroup * kernel];
        var scales = new float[outChannels * kernel];
        var q = new sbyte[outPerGroup * inPerGroup];
        var rowScales = new float[outPerGroup];
        for (int g = 0; g < groups; g++)
            for (int j = 0; j < kernel; j++)
            {
                taps[g][j].Unpack(q, rowScales);
                Scatter<sbyte>(q, values, g, j, outPerGroup, inPerGroup, kernel);
                for (int o = 0; o < outPerGroup; o++)
                    scales[(g * outPerGroup + o) * kernel + j] = rowScales[o];
            }
        return (values, scales);
    }

    /// <summary>w = scale * q in PyTorch's layout (for CPUs without an int8 kernel, and for diagnostics).</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> scales, int kernel, Span<float> w)
    {
        int inPerGroup = values.Length / (scales.Length / kernel) / kernel;
        for (int i = 0; i < values.Length; i++)
        {
            int o = i / (inPerGroup * kernel), j = i % kernel;
            w[i] = scales[o * kernel + j] * values[i];
        }
    }

    private static Int8Weights[][] NewTaps(int groups, int kernel) => [.. Enumerable.Range(0, groups).Select(_ => new Int8Weights[kernel])];

    // The (outPerGroup x inPerGroup) matrix of group g and tap j of a (out, in / groups, kernel) tensor, and back.
    private static void Gather<T>(ReadOnlySpan<T> w, Span<T> tap, int g, int j, int outPerGroup, int inPerGroup, int kernel)
    {
        for (int o = 0; o < outPerGroup; o++)
            for (int c = 0; c < inPerGroup; c++)
                tap[o * inPerGroup + c] = w[((g * outPerGroup + o) * inPerGroup + c) * kernel + j];
    }

    private static void Scatter<T>(ReadOnlySpan<T> tap, Span<T> w, int g, int j, int outPerGroup, int inPerGroup, int kernel)
    {
        for (int o = 0; o < outPerGroup; o++)
            for (int c = 0; c < inPerGroup; c++)
                w[((g * outPerGroup + o) * inPerGroup + c) * kernel + j] = tap[o * inPerGroup + c];
    }
}

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
            (float scale, int zero) = Range(TensorPrimitives.Min(row), TensorPrimitives.Max(row), target.Levels);
            (target.Scales[firstRow + r], target.Zeros[firstRow + r]) = (scale, zero);
            Quantize(row, scale, zero, target.Data.AsSpan((firstRow + r) * target.Stride, columns), target.Levels);
        }
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
