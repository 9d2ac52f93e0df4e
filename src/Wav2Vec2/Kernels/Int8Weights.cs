using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    /// infinity gets a NaN scale, so that its outputs are NaN. With <paramref name="reuse"/> large enough, the result
    /// is written into its arrays (which it then shares; attention quantises each head's keys and values this way).
    /// </summary>
    public static Int8Weights Quantize(ReadOnlySpan<float> w, int rows, int columns, int? range = null, Int8Weights? reuse = null)
    {
        if (w.Length < (long)rows * columns)
            throw new ArgumentException($"{w.Length} values are not {rows} rows of {columns}.");
        fixed (float* pw = w)
            return Quantize(pw, rows, columns, columns, range ?? Int8Gemm.WeightRange, reuse);
    }

    /// <summary><see cref="Quantize(ReadOnlySpan{float}, int, int, int?, Int8Weights?)"/> of rows <paramref name="rowStride"/> floats apart.</summary>
    public static Int8Weights Quantize(float* w, int rows, int columns, long rowStride, int levels, Int8Weights? reuse)
    {
        Int8Weights result = Reuse(reuse, rows, columns, levels);
        sbyte[] row = ArrayPool<sbyte>.Shared.Rent(result.PaddedColumns);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                (result.Scales[r], int sum) = QuantizeRow(new ReadOnlySpan<float>(w + r * rowStride, columns), levels, row);
                result.PackRow(r, row, sum);
            }
        }
        finally
        {
            ArrayPool<sbyte>.Shared.Return(row);
        }
        return result;
    }

    /// <summary>
    /// The transpose of the <paramref name="rows"/> x <paramref name="columns"/> matrix at w (rows
    /// <paramref name="rowStride"/> floats apart) quantised as <see cref="Quantize(float*, int, int, long, int, Int8Weights?)"/>
    /// quantises a matrix: one scale per column of w (attention's values, quantised per channel over the keys).
    /// </summary>
    public static Int8Weights QuantizeTransposed(float* w, int rows, int columns, long rowStride, int levels, Int8Weights? reuse)
    {
        Int8Weights result = Reuse(reuse, columns, rows, levels);
        int padded = result.PaddedColumns, full = Vector256.IsHardwareAccelerated ? columns - columns % 8 : 0;
        float[] divisors = ArrayPool<float>.Shared.Rent(columns);
        int[] sums = ArrayPool<int>.Shared.Rent(columns);
        try
        {
            fixed (float* divisor = divisors)
            fixed (int* sum = sums)
            fixed (sbyte* packed = result.Packed)
            {
                // Each column's largest magnitude, eight columns at a time, then its scale; a zero or NaN scale divides
                // by infinity, which gives the zero row QuantizeRow gives it.
                new Span<float>(divisor, columns).Clear();
                new Span<int>(sum, columns).Clear();
                for (int r = 0; r < rows; r++)
                {
                    float* row = w + r * rowStride;
                    int c = 0;
                    for (; c < full; c += 8)
                        Vector256.Max(Vector256.Load(divisor + c), Vector256.Abs(Vector256.Load(row + c))).Store(divisor + c);
                    for (; c < columns; c++)
                        divisor[c] = MathF.Max(divisor[c], MathF.Abs(row[c]));
                }
                for (int c = 0; c < columns; c++)
                {
                    float scale = float.IsFinite(divisor[c]) ? divisor[c] / levels : float.NaN;
                    result.Scales[c] = scale;
                    divisor[c] = scale > 0f ? scale : float.PositiveInfinity;
                }
                // q[c, r] = round(w[r, c] / scale[c]) (as QuantizeRow), written where PackRow would put it: column c's
                // lane of its panel, byte r % 4 of group r / 4.
                Vector256<float> top = Vector256.Create((float)levels);
                for (int r = 0; r < rows; r++)
                {
                    float* row = w + r * rowStride;
                    sbyte* at = packed + (r >> 2) * 4 * PanelWidth + (r & 3);
                    int c = 0;
                    for (; c < full; c += 8)
                    {
                        Vector256<int> q = Vector256.ConvertToInt32(Vector256.Clamp(Vector256.Round(Vector256.Load(row + c) / Vector256.Load(divisor + c)), -top, top));
                        (Vector256.Load(sum + c) + q).Store(sum + c);
                        Vector128<short> words = Vector128.Narrow(q.GetLower(), q.GetUpper());
                        ulong bytes = Vector128.Narrow(words, words).AsUInt64().ToScalar();
                        sbyte* lane = at + c / PanelWidth * PanelWidth * padded + c % PanelWidth * 4;
                        for (int i = 0; i < 8; i++, bytes >>= 8)
                            lane[4 * i] = (sbyte)bytes;
                    }
                    for (; c < columns; c++)
                    {
                        int q = Math.Clamp((int)MathF.Round(row[c] / divisor[c]), -levels, levels);
                        sum[c] += q;
                        at[c / PanelWidth * PanelWidth * padded + c % PanelWidth * 4] = (sbyte)q;
                    }
                }
                // The padding columns of the transpose (rows .. padded) are zeros.
                for (int r = rows; r < padded; r++)
                    for (int c = 0; c < columns; c++)
                        packed[c / PanelWidth * PanelWidth * padded + (r >> 2) * 4 * PanelWidth + c % PanelWidth * 4 + (r & 3)] = 0;
                new Span<int>(sum, columns).CopyTo(result.RowSums);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(divisors);
            ArrayPool<int>.Shared.Return(sums);
        }
        return result;
    }

    // An Int8Weights of the given shape in reuse's arrays when they are large enough, else in new ones.
    private static Int8Weights Reuse(Int8Weights? reuse, int rows, int columns, int levels)
    {
        int panels = (rows + PanelWidth - 1) / PanelWidth;
        return reuse != null && reuse.Packed.LongLength >= (long)panels * PanelWidth * Padded(columns) && reuse.Scales.Length >= panels * PanelWidth
            ? new Int8Weights(rows, columns, levels, reuse.Packed, reuse.Scales, reuse.RowSums)
            : Allocate(rows, columns, levels);
    }

    /// <summary>
    /// Quantises each row of w (rows x columns) symmetrically to q in [-levels, levels] (written to
    /// <paramref name="q"/>) and returns the row scales (w = scale * q): the stored form of an int8 model.
    /// </summary>
    public static float[] QuantizeRows(ReadOnlySpan<float> w, int rows, int columns, int levels, Span<sbyte> q)
    {
        var scales = new float[rows];
        for (int r = 0; r < rows; r++)
            scales[r] = QuantizeRow(w.Slice(r * columns, columns), levels, q.Slice(r * columns, columns)).Scale;
        return scales;
    }

    // q = clamp(round(row / scale), -levels, levels) with scale = max |row| / levels (returned). A row holding NaN or
    // infinity gets a NaN scale: its outputs are NaN, as in fp32, for the inference's non-finite check to report with
    // the tensor's name.
    private static (float Scale, int Sum) QuantizeRow(ReadOnlySpan<float> row, int levels, Span<sbyte> q)
    {
        (float lo, float hi) = ActivationQuantizer.Bounds(row);
        float max = row.Length == 0 ? 0f : MathF.Max(-lo, hi);
        float scale = float.IsFinite(max) ? max / levels : float.NaN;
        if (scale == 0 || float.IsNaN(scale))
        {
            q[..row.Length].Clear();
            return (scale, 0);
        }
        int p = 0, sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> s = Vector256.Create(scale), top = Vector256.Create((float)levels);
            Vector256<int> sums = Vector256<int>.Zero;
            for (; p <= row.Length - 16; p += 16)
            {
                Vector256<int> low = Vector256.ConvertToInt32(Vector256.Clamp(Vector256.Round(Vector256.Create(row.Slice(p, 8)) / s), -top, top));
                Vector256<int> high = Vector256.ConvertToInt32(Vector256.Clamp(Vector256.Round(Vector256.Create(row.Slice(p + 8, 8)) / s), -top, top));
                sums += low + high;
                Vector256<short> words = Vector256.Narrow(low, high);
                Vector128.Narrow(words.GetLower(), words.GetUpper()).CopyTo(q.Slice(p, 16));
            }
            sum = Vector256.Sum(sums);
        }
        for (; p < row.Length; p++)
        {
            // Clamped: a subnormal scale can round the largest value one step past the range.
            int v = Math.Clamp((int)MathF.Round(row[p] / scale), -levels, levels);
            q[p] = (sbyte)v;
            sum += v;
        }
        return (scale, sum);
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
        Int8Weights result = Allocate(rows, columns, levels);
        scales.CopyTo(result.Scales);
        sbyte[] row = new sbyte[result.PaddedColumns];
        for (int r = 0; r < rows; r++)
        {
            q.Slice(r * columns, columns).CopyTo(row);
            int sum = 0;
            foreach (sbyte v in q.Slice(r * columns, columns))
                sum += v;
            result.PackRow(r, row, sum);
        }
        return result;
    }

    private static Int8Weights Allocate(int rows, int columns, int levels)
    {
        int panels = (rows + PanelWidth - 1) / PanelWidth;
        return new Int8Weights(rows, columns, levels, GC.AllocateArray<sbyte>(Math.Max(1, panels * PanelWidth * Padded(columns)), pinned: true),
            GC.AllocateArray<float>(panels * PanelWidth, pinned: true), GC.AllocateArray<int>(panels * PanelWidth, pinned: true));
    }

    // Row r's q (Columns values, then room up to PaddedColumns) into its panel lane, 4 bytes per group of 4 columns,
    // the padding columns as zeros; and its sum.
    private void PackRow(int r, Span<sbyte> q, int sum)
    {
        int padded = PaddedColumns;
        q[Columns..padded].Clear();
        RowSums[r] = sum;
        ReadOnlySpan<int> groups = MemoryMarshal.Cast<sbyte, int>(q[..padded]);
        Span<int> lane = MemoryMarshal.Cast<sbyte, int>(Packed.AsSpan(r / PanelWidth * PanelWidth * padded, PanelWidth * padded));
        for (int g = 0, at = r % PanelWidth; g < groups.Length; g++, at += PanelWidth)
            lane[at] = groups[g];
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
