using System.Runtime.CompilerServices;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

/// <summary>Which SGEMM micro-kernel runs; <see cref="Auto"/> picks the fastest the CPU supports.</summary>
internal enum GemmPath
{
    /// <summary>AVX2 + FMA when available, else Vector128, else scalar.</summary>
    Auto,
    /// <summary>6x16 register tile with 256-bit fused multiply-add.</summary>
    Avx2Fma,
    /// <summary>The same 6x16 tile with portable 128-bit vectors (SSE, NEON).</summary>
    Vector128,
    /// <summary>The scalar reference twin, <see cref="GemmReference"/>.</summary>
    Scalar,
}

/// <summary>
/// Single-precision matrix multiply, row-major, in the BLIS structure: B is packed into KC x NC blocks of NR-wide
/// panels, A into MC x KC blocks of MR-tall panels, and a register-tiled micro-kernel computes MR x NR tiles of C.
/// Both cores work on disjoint column (or row) slabs of C, each with its own packing buffers, so no synchronisation
/// is needed inside a multiply and the result does not depend on timing.
/// </summary>
internal static unsafe partial class Gemm
{
    internal const int MR = 6;
    internal const int NR = 16;
    private const int KC = 256;
    private const int MC = 96;
    private const int NC = 2048;
    // Below this many multiply-adds per thread, fanning out costs more than it saves.
    private const long MinWorkPerThread = 1L << 17;

    /// <summary>The micro-kernel in use; tests set it to compare every path with the scalar twin.</summary>
    public static GemmPath Path { get; set; } = GemmPath.Auto;

    /// <summary>The micro-kernel that <see cref="Path"/> resolves to on this CPU.</summary>
    public static GemmPath EffectivePath => Path != GemmPath.Auto ? Path
        : GemmMicroKernels.Avx2FmaSupported ? GemmPath.Avx2Fma
        : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? GemmPath.Vector128
        : GemmPath.Scalar;

    /// <summary>
    /// C = alpha * op(A) * op(B) + beta * C for row-major matrices, op(X) = X or its transpose.
    /// op(A) is m x k, op(B) is k x n, C is m x n; lda/ldb/ldc are the row strides of the stored matrices.
    /// With beta = 0, C's previous contents (even NaN) are ignored.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0)
            return;
        GemmPath path = EffectivePath;
        if (path == GemmPath.Scalar)
        {
            GemmReference.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        if (k == 0 || alpha == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            var job = new GemmJob(transA, transB, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, path);
            long work = (long)m * n * k;
            int threads = (int)Math.Clamp(work / MinWorkPerThread, 1, Parallelism.AvailableThreads);
            bool splitColumns = n >= m;
            int units = splitColumns ? (n + NR - 1) / NR : (m + MR - 1) / MR;
            threads = Math.Min(threads, units);
            if (threads == 1)
            {
                job.Run(0, m, 0, n);
                return;
            }
            Parallelism.For(threads, part =>
            {
                (int u0, int u1) = Parallelism.Partition(units, threads, part);
                if (splitColumns)
                    job.Run(0, m, u0 * NR, Math.Min(n, u1 * NR));
                else
                    job.Run(u0 * MR, Math.Min(m, u1 * MR), 0, n);
            });
        }
    }

    internal static void Validate(bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM sizes must be non-negative, got m={m} n={n} k={k}.");
        CheckOperand("A", transA ? k : m, transA ? m : k, aLength, lda);
        CheckOperand("B", transB ? n : k, transB ? k : n, bLength, ldb);
        CheckOperand("C", m, n, cLength, ldc);
    }

    private static void CheckOperand(string name, int rows, int cols, int length, int ld)
    {
        if (rows == 0 || cols == 0)
            return;
        if (ld < cols)
            throw new ArgumentException($"GEMM: leading dimension of {name} ({ld}) is smaller than its row length ({cols}).");
        if ((long)(rows - 1) * ld + cols > length)
            throw new ArgumentException($"GEMM: {name} needs {(long)(rows - 1) * ld + cols} elements for {rows}x{cols} with stride {ld}, span has {length}.");
    }

    private static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        if (beta == 1)
            return;
        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * ldc, n);
            if (beta == 0)
                row.Clear();
            else
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>One multiply's operands; <see cref="Run"/> computes a rectangle of C single-threaded.</summary>
    private readonly struct GemmJob(bool transA, bool transB, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, GemmPath path)
    {
        public void Run(int rowStart, int rowEnd, int colStart, int colEnd)
        {
            if (beta != 0 && beta != 1)
                for (int i = rowStart; i < rowEnd; i++)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(
                        new Span<float>(c + (long)i * ldc + colStart, colEnd - colStart), beta,
                        new Span<float>(c + (long)i * ldc + colStart, colEnd - colStart));

            PackBuffers buffers = PackBuffers.Rent();
            try
            {
                float* packA = buffers.A;
                float* packB = buffers.B;
                for (int jc = colStart; jc < colEnd; jc += NC)
                {
                    int nc = Math.Min(NC, colEnd - jc);
                    for (int pc = 0; pc < k; pc += KC)
                    {
                        int kc = Math.Min(KC, k - pc);
                        bool overwrite = pc == 0 && beta == 0;
                        PackB(b, ldb, transB, pc, jc, kc, nc, packB);
                        for (int ic = rowStart; ic < rowEnd; ic += MC)
                        {
                            int mc = Math.Min(MC, rowEnd - ic);
                            PackA(a, lda, transA, ic, pc, mc, kc, packA);
                            for (int jr = 0; jr < nc; jr += NR)
                            {
                                int nr = Math.Min(NR, nc - jr);
                                float* panelB = packB + (long)jr * kc;
                                for (int ir = 0; ir < mc; ir += MR)
                                {
                                    int mr = Math.Min(MR, mc - ir);
                                    float* tileC = c + (long)(ic + ir) * ldc + jc + jr;
                                    GemmMicroKernels.Tile(path, kc, packA + (long)ir * kc, panelB, tileC, ldc, alpha,
                                        overwrite, mr, nr);
                                }
                            }
                        }
                    }
                }
            }
            finally
            {
                PackBuffers.Return(buffers);
            }
        }
    }

    // Packed B: for each NR-wide column panel, kc rows of NR values (zero-padded past the last column).
    private static void PackB(float* b, int ldb, bool transB, int pc, int jc, int kc, int nc, float* dst)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* panel = dst + (long)jr * kc;
            if (!transB && nr == NR)
            {
                float* src = b + (long)pc * ldb + jc + jr;
                for (int p = 0; p < kc; p++)
                {
                    Unsafe.CopyBlockUnaligned(panel + p * NR, src + (long)p * ldb, NR * sizeof(float));
                }
                continue;
            }
            for (int p = 0; p < kc; p++)
            {
                float* row = panel + p * NR;
                for (int j = 0; j < nr; j++)
                    row[j] = transB ? b[(long)(jc + jr + j) * ldb + pc + p] : b[(long)(pc + p) * ldb + jc + jr + j];
                for (int j = nr; j < NR; j++)
                    row[j] = 0;
            }
        }
    }

    // Packed A: for each MR-tall row panel, kc columns of MR values (zero-padded past the last row).
    private static void PackA(float* a, int lda, bool transA, int ic, int pc, int mc, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* panel = dst + (long)ir * kc;
            if (transA && mr == MR)
            {
                float* src = a + (long)pc * lda + ic + ir;
                for (int p = 0; p < kc; p++)
                {
                    float* s = src + (long)p * lda;
                    float* d = panel + p * MR;
                    d[0] = s[0]; d[1] = s[1]; d[2] = s[2]; d[3] = s[3]; d[4] = s[4]; d[5] = s[5];
                }
                continue;
            }
            for (int r = 0; r < mr; r++)
            {
                float* d = panel + r;
                if (transA)
                {
                    float* s = a + (long)pc * lda + ic + ir + r;
                    for (int p = 0; p < kc; p++)
                        d[p * MR] = s[(long)p * lda];
                }
                else
                {
                    float* s = a + (long)(ic + ir + r) * lda + pc;
                    for (int p = 0; p < kc; p++)
                        d[p * MR] = s[p];
                }
            }
            for (int r = mr; r < MR; r++)
                for (int p = 0; p < kc; p++)
                    panel[p * MR + r] = 0;
        }
    }

    /// <summary>Per-thread packing space, pinned and 64-byte aligned, recycled through a small pool.</summary>
    private sealed class PackBuffers
    {
        private const int Alignment = 16; // floats, i.e. 64 bytes
        private static readonly Stack<PackBuffers> Pool = new();
        private readonly float[] _storage = GC.AllocateUninitializedArray<float>(MC * KC + KC * NC + 2 * Alignment, pinned: true);

        public float* A { get; }
        public float* B { get; }

        private PackBuffers()
        {
            float* start = (float*)Unsafe.AsPointer(ref _storage[0]);
            A = start + (Alignment - (int)((nuint)start / sizeof(float) % Alignment)) % Alignment;
            B = A + MC * KC + Alignment;
        }

        public static PackBuffers Rent()
        {
            lock (Pool)
                if (Pool.Count > 0)
                    return Pool.Pop();
            return new PackBuffers();
        }

        public static void Return(PackBuffers buffers)
        {
            lock (Pool)
                Pool.Push(buffers);
        }
    }
}
