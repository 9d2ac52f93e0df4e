using System.Runtime.CompilerServices;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Single-precision matrix multiply, row-major, in the BLIS structure: B is packed into KC x NC blocks of NR-wide
/// panels, A into MC x KC blocks of MR-tall panels, and a register-tiled micro-kernel computes MR x NR tiles of C
/// (12 x 32 with AVX-512, 6 x 16 with AVX2 and Vector128, see <see cref="GemmMicroKernels"/>).
/// Both cores work on disjoint column (or row) slabs of C, each with its own packing buffers, so no synchronisation
/// is needed inside a multiply and the result does not depend on timing.
/// </summary>
internal static unsafe class Gemm
{
    // Below this many multiply-adds per thread, fanning out costs more than it saves.
    private const long MinWorkPerThread = 1L << 17;
    // Products at most this wide read A in place instead of packing it (see GemmJob.RunDirectA).
    private const int DirectAMaxColumns = 64;

    /// <summary>
    /// C = alpha * op(A) * op(B) + beta * C (+ bias on every row) for row-major matrices, op(X) = X or its transpose.
    /// op(A) is m x k, op(B) is k x n, C is m x n; lda/ldb/ldc are the row strides of the stored matrices.
    /// With beta = 0, C's previous contents (even NaN) are ignored. <paramref name="bias"/> (n values, or empty) is
    /// added to every row of the result, as a linear layer's bias, without a second pass over C.
    /// <paramref name="aColumns"/> and <paramref name="bColumns"/> describe segmented columns of the stored A and B
    /// (see <see cref="ColumnSegments"/>); with them, rows of A or B may overlap (a convolution's unfolded input).
    /// With <paramref name="gelu"/> the result is passed through exact GELU as it is stored (C = GELU(...)).
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        ReadOnlySpan<float> bias = default, ColumnSegments aColumns = default, ColumnSegments bColumns = default,
        bool gelu = false)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, aColumns, bColumns);
        if (bias.Length != 0 && bias.Length != n)
            throw new ArgumentException($"GEMM: bias has {bias.Length} values for {n} columns.");
        if (m == 0 || n == 0)
            return;
        KernelPath path = KernelPaths.Effective;
        if (path == KernelPath.Scalar)
        {
            GemmReference.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, aColumns, bColumns, gelu);
            return;
        }
        if (k == 0 || alpha == 0)
        {
            ScaleC(m, n, beta, c, ldc, bias, gelu);
            return;
        }

        fixed (float* pa = a, pb = b, pc = c, pbias = bias)
        {
            var job = new GemmJob(transA, transB, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, pbias, aColumns, bColumns,
                gelu, GemmGeometry.For(path, n, !transA));
            Parallelism.ForSlabs(m, n, job.Geometry.MR, job.Geometry.NR, (long)m * n * k, MinWorkPerThread, job.Run);
        }
    }

    /// <summary>
    /// C = A B (+ bias, then GELU) with B (k x n, row-major) stored as bfloat16 (the upper halves of floats): B is
    /// widened to fp32 as it is packed, so the product runs at the fp32 kernels' speed on half the weight bytes. A is
    /// row-major m x k.
    /// </summary>
    public static void SgemmBf16(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<ushort> b, int ldb,
        Span<float> c, int ldc, ReadOnlySpan<float> bias = default, bool gelu = false)
    {
        Validate(false, false, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (bias.Length != 0 && bias.Length != n)
            throw new ArgumentException($"GEMM: bias has {bias.Length} values for {n} columns.");
        if (m == 0 || n == 0)
            return;
        KernelPath path = KernelPaths.Effective;
        if (path == KernelPath.Scalar || k == 0)
        {
            var widened = new float[b.Length];
            BFloat16.Widen(b, widened);
            GemmReference.Sgemm(false, false, m, n, k, 1f, a, lda, widened, ldb, 0f, c, ldc, bias, default, default, gelu);
            return;
        }
        fixed (float* pa = a, pc = c, pbias = bias)
        fixed (ushort* pb = b)
        {
            var job = new GemmJob(false, false, k, 1f, pa, lda, null, ldb, 0f, pc, ldc, pbias, default, default,
                gelu, GemmGeometry.For(path, n, true), pb);
            Parallelism.ForSlabs(m, n, job.Geometry.MR, job.Geometry.NR, (long)m * n * k, MinWorkPerThread, job.Run);
        }
    }

    internal static void Validate(bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc,
        ColumnSegments aColumns = default, ColumnSegments bColumns = default)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM sizes must be non-negative, got m={m} n={n} k={k}.");
        CheckOperand("A", transA ? k : m, transA ? m : k, aLength, lda, aColumns);
        CheckOperand("B", transB ? n : k, transB ? k : n, bLength, ldb, bColumns);
        CheckOperand("C", m, n, cLength, ldc, default);
    }

    private static void CheckOperand(string name, int rows, int cols, int length, int ld, ColumnSegments columns)
    {
        if (rows == 0 || cols == 0)
            return;
        if (columns.Length < 0 || (!columns.IsNone && columns.Stride < columns.Length))
            throw new ArgumentException($"GEMM: column segments of {name} ({columns.Length} every {columns.Stride}) overlap.");
        // Segmented operands are read-only views that may overlap (a convolution's unfolded input); plain ones may not.
        if (columns.IsNone && ld < cols)
            throw new ArgumentException($"GEMM: leading dimension of {name} ({ld}) is smaller than its row length ({cols}).");
        long needed = (long)(rows - 1) * ld + columns.Offset(cols - 1) + 1;
        if (needed > length)
            throw new ArgumentException($"GEMM: {name} needs {needed} elements for {rows}x{cols} with stride {ld}, span has {length}.");
    }

    // C = beta * C + bias (then GELU), the whole product being zero.
    private static void ScaleC(int m, int n, float beta, Span<float> c, int ldc, ReadOnlySpan<float> bias, bool gelu)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * ldc, n);
            if (beta == 0)
                row.Clear();
            else if (beta != 1)
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            if (bias.Length > 0)
                System.Numerics.Tensors.TensorPrimitives.Add(row, bias, row);
            if (gelu)
                ActivationKernels.GeluForward(row, row);
        }
    }

    /// <summary>One multiply's operands; <see cref="Run"/> computes a rectangle of C single-threaded.</summary>
    private readonly struct GemmJob(bool transA, bool transB, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, float* bias,
        ColumnSegments aColumns, ColumnSegments bColumns, bool gelu, GemmGeometry geometry, ushort* bf16B = null)
    {
        public GemmGeometry Geometry => geometry;

        public void Run(int rowStart, int rowEnd, int colStart, int colEnd)
        {
            if (beta != 0 && beta != 1)
                for (int i = rowStart; i < rowEnd; i++)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(
                        new Span<float>(c + (long)i * ldc + colStart, colEnd - colStart), beta,
                        new Span<float>(c + (long)i * ldc + colStart, colEnd - colStart));

            int nr = geometry.NR;
            // k blocks of equal size (at most KC): long blocks keep C's tiles out of the loop, equal ones avoid a
            // short last block.
            int kBlocks = (k + geometry.KC - 1) / geometry.KC, kBlock = (k + kBlocks - 1) / kBlocks;
            // A narrow product uses each value of A for few columns: packing A would cost as much as the product,
            // so the micro-kernel reads A where it is (row-major A only).
            bool directA = !transA && colEnd - colStart <= DirectAMaxColumns;
            PackBuffers buffers = PackBuffers.Rent(geometry);
            try
            {
                for (int jc = colStart; jc < colEnd; jc += geometry.NC)
                {
                    int nc = Math.Min(geometry.NC, colEnd - jc);
                    for (int pc = 0; pc < k; pc += kBlock)
                    {
                        int kc = Math.Min(kBlock, k - pc);
                        // The first k block overwrites C (beta = 0) and adds the bias once; the last applies GELU.
                        var store = new TileStore(alpha, pc == 0 && beta == 0, pc == 0 ? bias : null, gelu && pc + kc == k);
                        if (bf16B != null)
                            GemmPacking.PackBf16(bf16B + (long)pc * ldb + jc, ldb, kc, nc, nr, buffers.B);
                        else
                            GemmPacking.Pack(b, ldb, !transB, bColumns, pc, jc, kc, nc, nr, geometry.FastPacking, buffers.B);
                        if (directA)
                            RunDirectA(rowStart, rowEnd, jc, nc, pc, kc, store, buffers);
                        else
                            RunPacked(rowStart, rowEnd, jc, nc, pc, kc, store, buffers);
                    }
                }
            }
            finally
            {
                PackBuffers.Return(buffers);
            }
        }

        // The BLIS loops over one packed block of B: blocks of MC rows of A packed, then MR x NR tiles.
        private void RunPacked(int rowStart, int rowEnd, int jc, int nc, int pc, int kc, TileStore store, PackBuffers buffers)
        {
            int mr = geometry.MR, nr = geometry.NR;
            for (int ic = rowStart; ic < rowEnd; ic += geometry.MC)
            {
                int mc = Math.Min(geometry.MC, rowEnd - ic);
                GemmPacking.Pack(a, lda, transA, aColumns, pc, ic, kc, mc, mr, geometry.FastPacking, buffers.A);
                for (int jr = 0; jr < nc; jr += nr)
                    for (int ir = 0; ir < mc; ir += mr)
                        GemmMicroKernels.Tile(geometry.Path, kc, PanelA.Packed(buffers.A + (long)ir * kc, mr),
                            buffers.B + (long)jr * kc, c + (long)(ic + ir) * ldc + jc + jr, ldc, store.At(jc + jr),
                            Math.Min(mr, mc - ir), Math.Min(nr, nc - jr));
            }
        }

        // Tiles of MR rows read straight from A, one call per contiguous run of A's columns (a segmented A has runs of
        // its segment length); a last tile of fewer rows is packed, so that nothing past A's last row is read.
        private void RunDirectA(int rowStart, int rowEnd, int jc, int nc, int pc, int kc, TileStore store, PackBuffers buffers)
        {
            int mr = geometry.MR, nr = geometry.NR;
            for (int i = rowStart; i < rowEnd; i += mr)
            {
                int rows = Math.Min(mr, rowEnd - i);
                if (rows < mr)
                    GemmPacking.Pack(a, lda, false, aColumns, pc, i, kc, rows, mr, geometry.FastPacking, buffers.A);
                for (int jr = 0; jr < nc; jr += nr)
                {
                    float* panelB = buffers.B + (long)jr * kc, tileC = c + (long)i * ldc + jc + jr;
                    TileStore tileStore = store.At(jc + jr);
                    int columns = Math.Min(nr, nc - jr);
                    if (rows < mr)
                    {
                        GemmMicroKernels.Tile(geometry.Path, kc, PanelA.Packed(buffers.A, mr), panelB, tileC, ldc, tileStore,
                            rows, columns);
                        continue;
                    }
                    for (int p = 0; p < kc;)
                    {
                        int run = Math.Min(kc - p, aColumns.RunFrom(pc + p));
                        var panel = new PanelA(a + (long)i * lda + aColumns.Offset(pc + p), lda, 1);
                        GemmMicroKernels.Tile(geometry.Path, run, panel, panelB + (long)p * nr, tileC, ldc,
                            (p == 0 ? tileStore : tileStore.Accumulating).Finishing(p + run == kc), rows, columns);
                        p += run;
                    }
                }
            }
        }
    }

    /// <summary>Per-thread packing space, pinned and 64-byte aligned, recycled through a small pool per geometry.</summary>
    private sealed class PackBuffers
    {
        private const int Alignment = 16; // floats, i.e. 64 bytes
        private static readonly Dictionary<GemmGeometry, Stack<PackBuffers>> Pool = [];
        private readonly float[] _storage;

        public float* A { get; }
        public float* B { get; }
        public GemmGeometry Geometry { get; }

        private PackBuffers(GemmGeometry g)
        {
            Geometry = g;
            // Packing writes up to GemmPacking.Slack floats past a panel's end.
            int aSize = g.MC * g.KC + GemmPacking.Slack, bSize = g.KC * g.NC + GemmPacking.Slack;
            _storage = GC.AllocateUninitializedArray<float>(aSize + bSize + 2 * Alignment, pinned: true);
            float* start = (float*)Unsafe.AsPointer(ref _storage[0]);
            A = start + (Alignment - (int)((nuint)start / sizeof(float) % Alignment)) % Alignment;
            B = A + (aSize + Alignment - 1) / Alignment * Alignment;
        }

        public static PackBuffers Rent(GemmGeometry g)
        {
            lock (Pool)
                if (Pool.TryGetValue(g, out var stack) && stack.Count > 0)
                    return stack.Pop();
            return new PackBuffers(g);
        }

        public static void Return(PackBuffers buffers)
        {
            lock (Pool)
            {
                if (!Pool.TryGetValue(buffers.Geometry, out var stack))
                    Pool[buffers.Geometry] = stack = new Stack<PackBuffers>();
                stack.Push(buffers);
            }
        }
    }
}

/// <summary>Register tile (MR x NR) and cache blocks (MC x KC of A, KC x NC of B) of one micro-kernel path.</summary>
internal readonly record struct GemmGeometry(KernelPath Path, int MR, int NR, int MC, int KC, int NC)
{
    /// <summary>Vector copies and transposes in packing; the portable path keeps the scalar loops (its twin).</summary>
    public bool FastPacking => Path != KernelPath.Vector128;

    // Blocks chosen by measurement on Zen 4 (1 MB L2): long k blocks matter most (fewer passes over C).
    internal static GemmGeometry Avx512 = new(KernelPath.Avx512, 12, 32, 48, 768, 1024);
    internal static GemmGeometry Avx2 = new(KernelPath.Avx2, 6, 16, 48, 768, 1024);
    private static readonly GemmGeometry Portable = Avx2 with { Path = KernelPath.Vector128 };

    public static GemmGeometry For(KernelPath path) => path switch
    {
        KernelPath.Avx512 => Avx512,
        KernelPath.Avx2 => Avx2,
        _ => Portable,
    };

    /// <summary>
    /// The geometry for a product n wide: on the AVX-512 path a narrow product read in place whose width is a multiple
    /// of 16 but not of 32 (a grouped convolution's 48 channels) takes the 6 x 16 tile, which wastes no column.
    /// </summary>
    public static GemmGeometry For(KernelPath path, int n, bool rowMajorA) =>
        path == KernelPath.Avx512 && rowMajorA && n <= 64 && n % 32 != 0 && n % 16 == 0 ? Avx2 : For(path);
}

/// <summary>How a micro-kernel writes its tile: C = alpha * AB (+ bias) when overwriting, else C += alpha * AB (+ bias).</summary>
internal readonly unsafe struct TileStore(float alpha, bool overwrite, float* bias, bool gelu)
{
    public float Alpha => alpha;
    public bool Overwrite => overwrite;
    public float* Bias => bias;

    /// <summary>Pass the final value through GELU (the last contribution to C).</summary>
    public bool Gelu => gelu;

    /// <summary>The same store for a tile whose first column is <paramref name="column"/> of C.</summary>
    public TileStore At(int column) => new(alpha, overwrite, bias == null ? null : bias + column, gelu);

    /// <summary>Adding to C without the bias: a later part of the same k block.</summary>
    public TileStore Accumulating => new(alpha, false, null, gelu);

    /// <summary>GELU only when this is the last part of the block (<paramref name="last"/>).</summary>
    public TileStore Finishing(bool last) => new(alpha, overwrite, bias, gelu && last);
}

/// <summary>
/// Where a micro-kernel reads A: value (row r, step p) at Start[r * RowStride + p * StepStride]. A packed panel has
/// RowStride 1 and StepStride MR; A read in place has its leading dimension as RowStride and StepStride 1.
/// </summary>
internal readonly unsafe struct PanelA(float* start, int rowStride, int stepStride)
{
    public float* Start => start;
    public int RowStride => rowStride;
    public int StepStride => stepStride;

    public static PanelA Packed(float* start, int mr) => new(start, 1, mr);
}
