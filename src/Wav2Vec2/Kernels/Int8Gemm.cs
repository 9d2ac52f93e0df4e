using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

/// <summary>Which instructions the int8 products use (see <see cref="Int8Gemm"/>).</summary>
internal enum Int8Path
{
    /// <summary>Plain integer loops: the twin every other path must equal exactly.</summary>
    Scalar,
    /// <summary>AVX2 without VNNI: the <see cref="Avx512"/> scheme at 256 bits (weights in [-64, 64], activations in [0, 127]).</summary>
    Avx2,
    /// <summary>256-bit VNNI (vpdpbusd: four u8 x s8 multiply-adds per int32 lane in one instruction).</summary>
    AvxVnni,
    /// <summary>
    /// 512-bit AVX-512BW: vpmaddubsw (u8 x s8 pairs summed in int16) for two groups of 4 k steps, their int16 sum, then
    /// one vpmaddwd by ones into int32. Weights in [-64, 64] and activations in [0, 127] keep the int16 sum of four
    /// products within 4 x 127 x 64 = 32512, so nothing saturates: for AVX-512 CPUs without VNNI (or where
    /// <see cref="Avx512Vnni"/>'s run-time code is refused).
    /// </summary>
    Avx512,
    /// <summary>
    /// 512-bit VNNI (one vpdpbusd per row and 4 k steps, full 8-bit range), assembled at run time because .NET 10
    /// exposes no AVX-512 VNNI intrinsic (<see cref="Avx512VnniKernel"/>).
    /// </summary>
    Avx512Vnni,
}

/// <summary>
/// C = dequantise(A_u8) x dequantise(W_s8)^T (+ bias, then GELU) for dynamically quantised activations and weights
/// quantised once (<see cref="Int8Weights"/>). Products are exact in int32, so every path gives the same C to the bit;
/// only the scales round. A's rows are read in place with any stride, so a channels-last convolution's overlapping
/// patches need no copy. The tile loops walk 16-column panels of W and MR-row tiles of A; the threads take disjoint
/// column or row slabs.
/// </summary>
internal static unsafe class Int8Gemm
{
    private const int PanelWidth = Int8Weights.PanelWidth;
    private const long MinWorkPerThread = 1L << 18;
    private const int Avx512TileRows = 12;
    // Bytes of A a row block holds (half of a 1 MB L2, the rest for W's panels).
    private const int BlockBytes = 1 << 18;
    // k steps of a panel that one pass over a row block reads: 16 KB of W, which stays in a 32 KB L1 while every tile
    // of the block reads it (a whole panel of a 3072-long row, 48 KB, would be read from L2 by each tile).
    private const int ChunkSteps = 1024;

    /// <summary>The path tests force; null picks the best this CPU runs (see <see cref="Effective"/>).</summary>
    internal static Int8Path? Requested { get; set; }

    /// <summary>True when this CPU runs <paramref name="path"/> natively.</summary>
    public static bool Supported(Int8Path path) => path switch
    {
        Int8Path.Avx512Vnni => Avx512VnniKernel.Supported,
        Int8Path.Avx512 => KernelPaths.Avx512Supported,
        Int8Path.AvxVnni => AvxVnni.IsSupported,
        Int8Path.Avx2 => Avx2.IsSupported,
        _ => true,
    };

    /// <summary>
    /// The path in use: the requested one, else 512-bit VNNI (on the AVX-512 fp32 path), 256-bit VNNI, AVX-512 (as fast as
    /// 256-bit VNNI on a Zen 5 but with 7-bit weights, so for AVX-512 CPUs without VNNI), AVX2 or scalar (scalar when the
    /// fp32 kernels are forced scalar).
    /// </summary>
    public static Int8Path Effective => Requested ?? (KernelPaths.Effective is KernelPath.Scalar or KernelPath.Vector128 ? Int8Path.Scalar
        : KernelPaths.Effective == KernelPath.Avx512 && Supported(Int8Path.Avx512Vnni) ? Int8Path.Avx512Vnni
        : Supported(Int8Path.AvxVnni) ? Int8Path.AvxVnni
        : KernelPaths.Effective == KernelPath.Avx512 && Supported(Int8Path.Avx512) ? Int8Path.Avx512
        : Supported(Int8Path.Avx2) ? Int8Path.Avx2
        : Int8Path.Scalar);

    /// <summary>
    /// True when int8 runs faster than fp32 can be expected: a SIMD path is effective, or a path was requested (tests).
    /// The scalar twin alone (ARM64, or the fp32 kernels forced scalar) is far slower than the fp32 kernels.
    /// </summary>
    public static bool Accelerated => Requested != null || Effective != Int8Path.Scalar;

    /// <summary>The weight range the effective path needs (weights quantised now are read by it).</summary>
    public static int WeightRange => Reduced(Effective) ? Int8Weights.ReducedRange : Int8Weights.FullRange;

    /// <summary>The largest activation q the effective path reads (activations quantised now are read by it).</summary>
    public static int ActivationLevels => Reduced(Effective) ? ActivationQuantizer.ReducedLevels : ActivationQuantizer.FullLevels;

    // The vpmaddubsw paths, which need reduced weights and activations so that their int16 sums cannot saturate.
    private static bool Reduced(Int8Path path) => path is Int8Path.Avx512 or Int8Path.Avx2;

    /// <summary>
    /// c (m x n, row stride ldc) = sum over segments s of a.Scale(i, s) * w[s].Scale(j) * (sum_p a[i, s, p] w[s][j, p]
    /// - a.Zero(i, s) * w[s].RowSum(j)), + bias[j], then GELU with <paramref name="gelu"/>. A linear layer has one
    /// segment; a convolution one per kernel tap, each a whole input frame with its own scale. Every segment's
    /// weights have the same shape; each row segment must offer <see cref="Int8Weights.PaddedColumns"/> readable bytes
    /// (the padding meets zero weights).
    /// </summary>
    public static void Multiply(QuantizedRows a, ReadOnlySpan<Int8Weights> w, Span<float> c, int ldc, ReadOnlySpan<float> bias,
        bool gelu)
    {
        if (w.Length != a.Segments || w.Length == 0)
            throw new ArgumentException($"int8 GEMM: {w.Length} weight segments for {a.Segments} segments of A.");
        int m = a.Rows, n = w[0].Rows, k = w[0].Columns;
        foreach (Int8Weights segment in w)
            if (segment.Rows != n || segment.Columns != k)
                throw new ArgumentException("int8 GEMM: weight segments differ in shape.");
        if (m == 0 || n == 0)
            return;
        long lastByte = a.Offset(m - 1, a.Segments - 1) + w[0].PaddedColumns, lastScale = a.ScaleIndex(m - 1, a.Segments - 1) + 1;
        if (a.Start < 0 || a.ScaleStart < 0 || a.Stride < 0 || a.SegmentStride < 0 || a.ScaleStride < 0 || a.SegmentScaleStride < 0
            || a.Data.Length < lastByte || a.Scales.Length < lastScale || a.Zeros.Length < lastScale
            || c.Length < (long)(m - 1) * ldc + n || ldc < n)
            throw new ArgumentException($"int8 GEMM: operands too short for {m}x{n}x{k} in {a.Segments} segments.");
        if (bias.Length != 0 && bias.Length != n)
            throw new ArgumentException($"int8 GEMM: bias has {bias.Length} values for {n} columns.");
        Int8Weights[] segments = w.ToArray();
        Int8Path path = Effective;
        if (!Supported(path))
            throw new PlatformNotSupportedException($"the int8 {path} kernel needs an instruction set this CPU lacks.");
        // Weights or activations quantised to the full range (under another path) would saturate the vpmaddubsw paths'
        // int16 sums.
        if (Reduced(path) && (a.Levels > ActivationQuantizer.ReducedLevels || segments.Any(s => s.Range > Int8Weights.ReducedRange)))
            path = Supported(Int8Path.Avx512Vnni) ? Int8Path.Avx512Vnni : Supported(Int8Path.AvxVnni) ? Int8Path.AvxVnni : Int8Path.Scalar;
        fixed (byte* pa = a.Data)
        fixed (float* pscale = a.Scales, pc = c, pbias = bias)
        fixed (int* pzero = a.Zeros)
        {
            var job = new Job(path, a, pa, pscale, pzero, segments, pc, ldc, bias.Length == 0 ? null : pbias, gelu);
            Parallelism.ForSlabs(m, n, job.TileRows, PanelWidth, (long)m * n * k * a.Segments, MinWorkPerThread, job.Run);
        }
    }

    private readonly struct Job(Int8Path path, QuantizedRows shape, byte* a, float* aScales, int* aZeros, Int8Weights[] w,
        float* c, int ldc, float* bias, bool gelu)
    {
        public int TileRows => path switch { Int8Path.Avx2 => 4, Int8Path.Avx512 => Avx512TileRows, Int8Path.Avx512Vnni => Avx512VnniKernel.Rows, _ => 6 };

        // Blocks of rows whose bytes stay in L2 while every panel of W passes over them; per panel and segment, the
        // block's int32 sums (Accumulate), then their dequantisation into the float sums or C.
        public void Run(int rowStart, int rowEnd, int colStart, int colEnd)
        {
            int mr = TileRows, kPadded = w[0].PaddedColumns;
            int blockRows = Math.Min(rowEnd - rowStart, Math.Max(1, BlockBytes / (kPadded * w.Length) / mr) * mr);
            // Room for the last tile's rows past the block, which the kernels compute and store too.
            int blockValues = (blockRows + mr) * PanelWidth;
            int[] accumulators = ArrayPool<int>.Shared.Rent(blockValues);
            float[] sums = ArrayPool<float>.Shared.Rent(blockValues);
            try
            {
                fixed (int* acc = accumulators)
                fixed (float* sum = sums)
                    for (int ib = rowStart; ib < rowEnd; ib += blockRows)
                    {
                        int blockEnd = Math.Min(rowEnd, ib + blockRows);
                        for (int j = colStart; j < colEnd; j += PanelWidth)
                            for (int s = 0; s < w.Length; s++)
                            {
                                new Span<int>(acc, blockValues).Clear();
                                Accumulate(ib, blockEnd, j, s, acc);
                                for (int i = ib; i < blockEnd; i += mr)
                                    Dequantise(acc + (i - ib) * PanelWidth, sum + (i - ib) * PanelWidth, i, s, Math.Min(mr, blockEnd - i), j,
                                        Math.Min(PanelWidth, colEnd - j), w[s], first: s == 0, last: s == w.Length - 1);
                            }
                    }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(accumulators);
                ArrayPool<float>.Shared.Return(sums);
            }
        }

        // acc (rows ib..blockEnd of panel j, 16 int32 per row) += segment s's products, in chunks of k whose W stays in
        // L1 while every MR-row tile of the block reads it.
        private void Accumulate(int ib, int blockEnd, int j, int s, int* acc)
        {
            int mr = TileRows, kPadded = w[s].PaddedColumns;
            for (int k0 = 0; k0 < kPadded; k0 += ChunkSteps)
            {
                int steps = Math.Min(ChunkSteps, kPadded - k0);
                sbyte* panel = w[s].PackedAt(j) + (long)k0 * PanelWidth;
                for (int i = ib; i < blockEnd; i += mr)
                {
                    byte* rowsA = a + shape.Offset(i, s) + k0;
                    int rows = Math.Min(mr, blockEnd - i);
                    int* tile = acc + (i - ib) * PanelWidth;
                    switch (path)
                    {
                        case Int8Path.Avx512Vnni: Avx512VnniKernel.Tile(rowsA, shape.Stride, rows, panel, steps, tile); break;
                        case Int8Path.Avx512: Avx512Tile(rowsA, shape.Stride, rows, panel, steps, tile); break;
                        case Int8Path.AvxVnni: VnniTile(rowsA, shape.Stride, rows, panel, steps, tile); break;
                        case Int8Path.Avx2: Avx2Tile(rowsA, shape.Stride, rows, panel, steps, tile); break;
                        default: ScalarTile(rowsA, shape.Stride, rows, panel, steps, tile); break;
                    }
                }
            }
        }

        // sum (+)= a-scale * w-scale * (acc - a-zero * w-sum); after the last segment C = that + bias (then GELU)
        // instead. The same float operations in the same order on every path (no fused multiply-add), so C is
        // bit-identical across paths.
        private void Dequantise(int* tile, float* sum, int row, int segment, int rows, int column, int columns, Int8Weights w,
            bool first, bool last)
        {
            Vector256<int> sums0 = Vector256.Load(w.RowSumsAt(column)), sums1 = Vector256.Load(w.RowSumsAt(column) + 8);
            Vector256<float> scales0 = Vector256.Load(w.ScalesAt(column)), scales1 = Vector256.Load(w.ScalesAt(column) + 8);
            bool whole = last && columns == PanelWidth;
            for (int r = 0; r < rows; r++)
            {
                long at = shape.ScaleIndex(row + r, segment);
                Vector256<int> zero = Vector256.Create(aZeros[at]);
                Vector256<float> scale = Vector256.Create(aScales[at]);
                int* acc = tile + r * PanelWidth;
                float* target = sum + r * PanelWidth;
                Vector256<float> v0 = Vector256.ConvertToSingle(Vector256.Load(acc) - zero * sums0) * (scale * scales0);
                Vector256<float> v1 = Vector256.ConvertToSingle(Vector256.Load(acc + 8) - zero * sums1) * (scale * scales1);
                if (!first)
                {
                    v0 = Vector256.Load(target) + v0;
                    v1 = Vector256.Load(target + 8) + v1;
                }
                if (!whole)
                {
                    v0.Store(target);
                    v1.Store(target + 8);
                    if (last)
                        StorePartial(target, row + r, column, columns);
                    continue;
                }
                float* cRow = c + (long)(row + r) * ldc + column;
                if (bias != null)
                {
                    v0 += Vector256.Load(bias + column);
                    v1 += Vector256.Load(bias + column + 8);
                }
                v0.Store(cRow);
                v1.Store(cRow + 8);
            }
            // GELU over the tile in C while it is in cache (inlined into the loop above, it runs slower), with the
            // cheaper exponential: the int8 product's own error is hundreds of times the one it adds.
            if (last && gelu)
                ActivationKernels.GeluTile(c + (long)row * ldc + column, ldc, rows, columns, coarse: true);
        }

        // The first `columns` values of a row of the last panel (fewer than 16) + bias into C.
        private void StorePartial(float* values, int row, int column, int columns)
        {
            float* cRow = c + (long)row * ldc + column;
            for (int q = 0; q < columns; q++)
                cRow[q] = bias == null ? values[q] : values[q] + bias[column + q];
        }
    }

    // Panel layout (Int8Weights): for each group of 4 k steps, 16 columns x 4 bytes. Every kernel adds the products of
    // its k steps to the tile's int32 sums.
    private static void ScalarTile(byte* a, int lda, int rows, sbyte* panel, int kPadded, int* tile)
    {
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < PanelWidth; q++)
            {
                int sum = tile[r * PanelWidth + q];
                for (int p = 0; p < kPadded; p++)
                    sum += a[(long)r * lda + p] * panel[(p >> 2) * 4 * PanelWidth + q * 4 + (p & 3)];
                tile[r * PanelWidth + q] = sum;
            }
    }

    // 6 rows x 16 columns in 12 accumulators.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void VnniTile(byte* a, int lda, int rows, sbyte* panel, int kPadded, int* tile)
    {
        byte* a0 = a, a1 = Row(a, lda, 1, rows), a2 = Row(a, lda, 2, rows), a3 = Row(a, lda, 3, rows);
        byte* a4 = Row(a, lda, 4, rows), a5 = Row(a, lda, 5, rows);
        Vector256<int> c00 = Vector256.Load(tile), c01 = Vector256.Load(tile + 8), c10 = Vector256.Load(tile + 16);
        Vector256<int> c11 = Vector256.Load(tile + 24), c20 = Vector256.Load(tile + 32), c21 = Vector256.Load(tile + 40);
        Vector256<int> c30 = Vector256.Load(tile + 48), c31 = Vector256.Load(tile + 56), c40 = Vector256.Load(tile + 64);
        Vector256<int> c41 = Vector256.Load(tile + 72), c50 = Vector256.Load(tile + 80), c51 = Vector256.Load(tile + 88);
        for (int p = 0; p < kPadded; p += 4, panel += 4 * PanelWidth)
        {
            Vector256<sbyte> b0 = Vector256.Load(panel), b1 = Vector256.Load(panel + 32);
            Vector256<byte> x = Vector256.Create(*(int*)(a0 + p)).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
            x = Vector256.Create(*(int*)(a1 + p)).AsByte();
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, b0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
            x = Vector256.Create(*(int*)(a2 + p)).AsByte();
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, b0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
            x = Vector256.Create(*(int*)(a3 + p)).AsByte();
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, b0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, b1);
            x = Vector256.Create(*(int*)(a4 + p)).AsByte();
            c40 = AvxVnni.MultiplyWideningAndAdd(c40, x, b0);
            c41 = AvxVnni.MultiplyWideningAndAdd(c41, x, b1);
            x = Vector256.Create(*(int*)(a5 + p)).AsByte();
            c50 = AvxVnni.MultiplyWideningAndAdd(c50, x, b0);
            c51 = AvxVnni.MultiplyWideningAndAdd(c51, x, b1);
        }
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
    }

    // 12 rows x 16 columns, one zmm accumulator per row. Each step of 8 k reads two panel vectors (16 columns x 4 bytes
    // each): vpmaddubsw of each against the row's 4 bytes repeated, their int16 sum, then vpmaddwd by ones sums each
    // column's 8 products into int32 (Int8Weights pads k to a multiple of 8).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Avx512Tile(byte* a, int lda, int rows, sbyte* panel, int kPadded, int* tile)
    {
        byte* a0 = a, a1 = Row(a, lda, 1, rows), a2 = Row(a, lda, 2, rows), a3 = Row(a, lda, 3, rows);
        byte* a4 = Row(a, lda, 4, rows), a5 = Row(a, lda, 5, rows), a6 = Row(a, lda, 6, rows), a7 = Row(a, lda, 7, rows);
        byte* a8 = Row(a, lda, 8, rows), a9 = Row(a, lda, 9, rows), a10 = Row(a, lda, 10, rows), a11 = Row(a, lda, 11, rows);
        Vector512<int> c0 = Vector512.Load(tile), c1 = Vector512.Load(tile + 16), c2 = Vector512.Load(tile + 32);
        Vector512<int> c3 = Vector512.Load(tile + 48), c4 = Vector512.Load(tile + 64), c5 = Vector512.Load(tile + 80);
        Vector512<int> c6 = Vector512.Load(tile + 96), c7 = Vector512.Load(tile + 112), c8 = Vector512.Load(tile + 128);
        Vector512<int> c9 = Vector512.Load(tile + 144), c10 = Vector512.Load(tile + 160), c11 = Vector512.Load(tile + 176);
        for (int p = 0; p < kPadded; p += 8, panel += 8 * PanelWidth)
        {
            Vector512<sbyte> b = Vector512.Load(panel), d = Vector512.Load(panel + 4 * PanelWidth);
            c0 += Eight(a0 + p, b, d);
            c1 += Eight(a1 + p, b, d);
            c2 += Eight(a2 + p, b, d);
            c3 += Eight(a3 + p, b, d);
            c4 += Eight(a4 + p, b, d);
            c5 += Eight(a5 + p, b, d);
            c6 += Eight(a6 + p, b, d);
            c7 += Eight(a7 + p, b, d);
            c8 += Eight(a8 + p, b, d);
            c9 += Eight(a9 + p, b, d);
            c10 += Eight(a10 + p, b, d);
            c11 += Eight(a11 + p, b, d);
        }
        c0.Store(tile); c1.Store(tile + 16); c2.Store(tile + 32); c3.Store(tile + 48); c4.Store(tile + 64); c5.Store(tile + 80);
        c6.Store(tile + 96); c7.Store(tile + 112); c8.Store(tile + 128); c9.Store(tile + 144); c10.Store(tile + 160); c11.Store(tile + 176);
    }

    // Each column's 8 products of a row's bytes x[0..8) with the panel's two 4-byte groups b (k 0-3) and d (k 4-7), in int32.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Eight(byte* x, Vector512<sbyte> b, Vector512<sbyte> d) => Avx512BW.MultiplyAddAdjacent(
        Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)x).AsByte(), b)
        + Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(x + 4)).AsByte(), d), Vector512<short>.One);

    // Row r of a tile of `rows` rows, or its last row past it (read, never stored): every kernel computes whole tiles.
    internal static byte* Row(byte* a, int lda, int r, int rows) => a + (long)Math.Min(r, rows - 1) * lda;

    // 4 rows x 16 columns, two ymm accumulators per row: the AVX-512 scheme at 256 bits (b, d: the first 8 columns'
    // two 4-byte groups; e, f: the other 8 columns').
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Avx2Tile(byte* a, int lda, int rows, sbyte* panel, int kPadded, int* tile)
    {
        byte* a0 = a, a1 = Row(a, lda, 1, rows), a2 = Row(a, lda, 2, rows), a3 = Row(a, lda, 3, rows);
        Vector256<int> c00 = Vector256.Load(tile), c01 = Vector256.Load(tile + 8), c10 = Vector256.Load(tile + 16);
        Vector256<int> c11 = Vector256.Load(tile + 24), c20 = Vector256.Load(tile + 32), c21 = Vector256.Load(tile + 40);
        Vector256<int> c30 = Vector256.Load(tile + 48), c31 = Vector256.Load(tile + 56);
        for (int p = 0; p < kPadded; p += 8, panel += 8 * PanelWidth)
        {
            Vector256<sbyte> b = Vector256.Load(panel), e = Vector256.Load(panel + 32);
            Vector256<sbyte> d = Vector256.Load(panel + 64), f = Vector256.Load(panel + 96);
            (c00, c01) = Eight(a0 + p, b, d, e, f, c00, c01);
            (c10, c11) = Eight(a1 + p, b, d, e, f, c10, c11);
            (c20, c21) = Eight(a2 + p, b, d, e, f, c20, c21);
            (c30, c31) = Eight(a3 + p, b, d, e, f, c30, c31);
        }
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
    }

    // One row's 8 bytes x[0..8) against both column halves: (c0 + columns 0-7's products, c1 + columns 8-15's).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<int>, Vector256<int>) Eight(byte* x, Vector256<sbyte> b, Vector256<sbyte> d, Vector256<sbyte> e,
        Vector256<sbyte> f, Vector256<int> c0, Vector256<int> c1)
    {
        Vector256<byte> low = Vector256.Create(*(int*)x).AsByte(), high = Vector256.Create(*(int*)(x + 4)).AsByte();
        Vector256<short> ones = Vector256<short>.One;
        return (c0 + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(low, b) + Avx2.MultiplyAddAdjacent(high, d), ones),
            c1 + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(low, e) + Avx2.MultiplyAddAdjacent(high, f), ones));
    }
}

/// <summary>
/// Rows of u8 activations (value = scale * (q - zero)) in <see cref="Segments"/> segments of k bytes: segment s of row
/// i starts at Data[Start + i * Stride + s * SegmentStride] and has its scale and zero point at
/// [ScaleStart + i * ScaleStride + s * SegmentScaleStride]. Rows and segments may overlap: a convolution's patch t is the
/// frames t * stride + s, each a segment with its own range. <see cref="Levels"/> is the largest q (255, or 127 for the
/// paths that need reduced activations, <see cref="Int8Gemm.ActivationLevels"/>).
/// </summary>
internal readonly record struct QuantizedRows(byte[] Data, int Rows, int Stride, float[] Scales, int[] Zeros,
    int Segments = 1, int SegmentStride = 0, int ScaleStride = 1, int Start = 0, int SegmentScaleStride = 1, int ScaleStart = 0,
    int Levels = ActivationQuantizer.FullLevels)
{
    /// <summary>Index of the scale and zero point of row <paramref name="row"/>, segment <paramref name="segment"/>.</summary>
    public long ScaleIndex(int row, int segment) => ScaleStart + (long)row * ScaleStride + (long)segment * SegmentScaleStride;

    /// <summary>Offset in <see cref="Data"/> of row <paramref name="row"/>, segment <paramref name="segment"/>.</summary>
    public long Offset(int row, int segment) => Start + (long)row * Stride + (long)segment * SegmentStride;
}
