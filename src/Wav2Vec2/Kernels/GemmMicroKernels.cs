using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wav2Vec2.Kernels;

/// <summary>
/// MR x NR (6 x 16) micro-kernels of <see cref="Gemm"/>: tile(C) (+)= alpha * panelA * panelB over kc packed steps.
/// Panel A holds MR values per step, panel B NR values per step (see Gemm's packing).
/// </summary>
internal static unsafe class GemmMicroKernels
{
    public static bool Avx2FmaSupported => Avx2.IsSupported && Fma.IsSupported;

    public static void Tile(GemmPath path, int kc, float* a, float* b, float* c, int ldc, float alpha,
        bool overwrite, int mr, int nr)
    {
        bool full = mr == Gemm.MR && nr == Gemm.NR;
        // Partial tiles are computed whole into a scratch tile and the valid part is merged into C.
        float* scratch = stackalloc float[Gemm.MR * Gemm.NR];
        float* target = full ? c : scratch;
        int targetLd = full ? ldc : Gemm.NR;
        bool targetOverwrite = overwrite || !full;

        if (path == GemmPath.Avx2Fma)
            Avx2Fma6x16(kc, a, b, target, targetLd, alpha, targetOverwrite);
        else
            Portable6x16(kc, a, b, target, targetLd, alpha, targetOverwrite);

        if (full)
            return;
        for (int i = 0; i < mr; i++)
        {
            float* src = scratch + i * Gemm.NR;
            float* dst = c + (long)i * ldc;
            if (overwrite)
                for (int j = 0; j < nr; j++)
                    dst[j] = src[j];
            else
                for (int j = 0; j < nr; j++)
                    dst[j] += src[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Fma6x16(int kc, float* a, float* b, float* c, int ldc, float alpha, bool overwrite)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Avx.LoadAlignedVector256(b);
            Vector256<float> b1 = Avx.LoadAlignedVector256(b + 8);
            Vector256<float> av = Avx.BroadcastScalarToVector256(a);
            c00 = Fma.MultiplyAdd(av, b0, c00);
            c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 1);
            c10 = Fma.MultiplyAdd(av, b0, c10);
            c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 2);
            c20 = Fma.MultiplyAdd(av, b0, c20);
            c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 3);
            c30 = Fma.MultiplyAdd(av, b0, c30);
            c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 4);
            c40 = Fma.MultiplyAdd(av, b0, c40);
            c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 5);
            c50 = Fma.MultiplyAdd(av, b0, c50);
            c51 = Fma.MultiplyAdd(av, b1, c51);
            a += Gemm.MR;
            b += Gemm.NR;
        }
        Vector256<float> scale = Vector256.Create(alpha);
        StoreRow(c, c00, c01, scale, overwrite);
        StoreRow(c + ldc, c10, c11, scale, overwrite);
        StoreRow(c + 2 * ldc, c20, c21, scale, overwrite);
        StoreRow(c + 3 * ldc, c30, c31, scale, overwrite);
        StoreRow(c + 4 * ldc, c40, c41, scale, overwrite);
        StoreRow(c + 5 * ldc, c50, c51, scale, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* row, Vector256<float> left, Vector256<float> right, Vector256<float> alpha,
        bool overwrite)
    {
        if (overwrite)
        {
            Avx.Store(row, Avx.Multiply(left, alpha));
            Avx.Store(row + 8, Avx.Multiply(right, alpha));
        }
        else
        {
            Avx.Store(row, Fma.MultiplyAdd(left, alpha, Avx.LoadVector256(row)));
            Avx.Store(row + 8, Fma.MultiplyAdd(right, alpha, Avx.LoadVector256(row + 8)));
        }
    }

    // Portable path: one row of the tile at a time, four 128-bit accumulators per row.
    private static void Portable6x16(int kc, float* a, float* b, float* c, int ldc, float alpha, bool overwrite)
    {
        for (int i = 0; i < Gemm.MR; i++)
        {
            Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            float* pa = a + i;
            float* pb = b;
            for (int p = 0; p < kc; p++)
            {
                Vector128<float> av = Vector128.Create(*pa);
                acc0 += av * Vector128.Load(pb);
                acc1 += av * Vector128.Load(pb + 4);
                acc2 += av * Vector128.Load(pb + 8);
                acc3 += av * Vector128.Load(pb + 12);
                pa += Gemm.MR;
                pb += Gemm.NR;
            }
            float* row = c + (long)i * ldc;
            Vector128<float> scale = Vector128.Create(alpha);
            if (overwrite)
            {
                (acc0 * scale).Store(row);
                (acc1 * scale).Store(row + 4);
                (acc2 * scale).Store(row + 8);
                (acc3 * scale).Store(row + 12);
            }
            else
            {
                (Vector128.Load(row) + acc0 * scale).Store(row);
                (Vector128.Load(row + 4) + acc1 * scale).Store(row + 4);
                (Vector128.Load(row + 8) + acc2 * scale).Store(row + 8);
                (Vector128.Load(row + 12) + acc3 * scale).Store(row + 12);
            }
        }
    }
}
