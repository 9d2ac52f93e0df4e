using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Micro-kernels of <see cref="Gemm"/>: tile(C) (+)= alpha * panelA * panelB (+ bias) over kc packed steps, panel A
/// holding MR values per step and panel B NR values (see <see cref="GemmPacking"/>). AVX-512: 12 x 32 (24 of the 32
/// vector registers accumulate); AVX2: 6 x 16 (12 of 16); Vector128: 6 x 16 one row at a time. All are written with
/// the portable Vector APIs, so every path runs (emulated where the CPU lacks it) and is tested on every machine.
/// </summary>
[SkipLocalsInit]
internal static unsafe class GemmMicroKernels
{
    public static void Tile(KernelPath path, int kc, float* a, float* b, float* c, int ldc, TileStore store, int mr, int nr)
    {
        GemmGeometry g = GemmGeometry.For(path);
        if (mr == g.MR && nr == g.NR)
        {
            Run(path, kc, a, b, c, ldc, store);
            return;
        }
        // Partial tiles are computed whole into a scratch tile and the valid part is merged into C.
        float* scratch = stackalloc float[g.MR * g.NR];
        Run(path, kc, a, b, scratch, g.NR, new TileStore(store.Alpha, true, store.Bias));
        for (int i = 0; i < mr; i++)
        {
            float* src = scratch + i * g.NR;
            float* dst = c + (long)i * ldc;
            if (store.Overwrite)
                for (int j = 0; j < nr; j++)
                    dst[j] = src[j];
            else
                for (int j = 0; j < nr; j++)
                    dst[j] += src[j];
        }
    }

    private static void Run(KernelPath path, int kc, float* a, float* b, float* c, int ldc, TileStore store)
    {
        switch (path)
        {
            case KernelPath.Avx512: Avx512Tile(kc, a, b, c, ldc, store); break;
            case KernelPath.Avx2: Avx2Tile(kc, a, b, c, ldc, store); break;
            default: PortableTile(kc, a, b, c, ldc, store); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Tile(int kc, float* a, float* b, float* c, int ldc, TileStore store)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> av = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            av = Vector512.Create(a[8]);
            c80 = Vector512.FusedMultiplyAdd(av, b0, c80); c81 = Vector512.FusedMultiplyAdd(av, b1, c81);
            av = Vector512.Create(a[9]);
            c90 = Vector512.FusedMultiplyAdd(av, b0, c90); c91 = Vector512.FusedMultiplyAdd(av, b1, c91);
            av = Vector512.Create(a[10]);
            cA0 = Vector512.FusedMultiplyAdd(av, b0, cA0); cA1 = Vector512.FusedMultiplyAdd(av, b1, cA1);
            av = Vector512.Create(a[11]);
            cB0 = Vector512.FusedMultiplyAdd(av, b0, cB0); cB1 = Vector512.FusedMultiplyAdd(av, b1, cB1);
            a += 12;
            b += 32;
        }
        Store(c, c00, c01, store); Store(c + ldc, c10, c11, store); Store(c + 2 * ldc, c20, c21, store);
        Store(c + 3 * ldc, c30, c31, store); Store(c + 4 * ldc, c40, c41, store); Store(c + 5 * ldc, c50, c51, store);
        Store(c + 6 * ldc, c60, c61, store); Store(c + 7 * ldc, c70, c71, store); Store(c + 8 * ldc, c80, c81, store);
        Store(c + 9 * ldc, c90, c91, store); Store(c + 10 * ldc, cA0, cA1, store); Store(c + 11 * ldc, cB0, cB1, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Tile(int kc, float* a, float* b, float* c, int ldc, TileStore store)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> av = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(av, b0, c00); c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(av, b0, c10); c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(av, b0, c20); c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(av, b0, c30); c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(av, b0, c40); c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(av, b0, c50); c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
            a += 6;
            b += 16;
        }
        Store(c, c00, c01, store); Store(c + ldc, c10, c11, store); Store(c + 2 * ldc, c20, c21, store);
        Store(c + 3 * ldc, c30, c31, store); Store(c + 4 * ldc, c40, c41, store); Store(c + 5 * ldc, c50, c51, store);
    }

    // One row of the tile at a time, four 128-bit accumulators per row (mul + add: no FMA assumed).
    private static void PortableTile(int kc, float* a, float* b, float* c, int ldc, TileStore store)
    {
        for (int i = 0; i < 6; i++)
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
                pa += 6;
                pb += 16;
            }
            float* row = c + (long)i * ldc;
            Store(row, acc0, acc1, store, 0);
            Store(row, acc2, acc3, store, 8);
        }
    }

    // row[0..2W) = alpha * (left, right) (+ bias) (+ row when accumulating), W the vector width.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector512<float> left, Vector512<float> right, TileStore store)
    {
        Vector512<float> alpha = Vector512.Create(store.Alpha);
        left *= alpha;
        right *= alpha;
        if (store.Bias != null)
        {
            left += Vector512.Load(store.Bias);
            right += Vector512.Load(store.Bias + 16);
        }
        if (!store.Overwrite)
        {
            left += Vector512.Load(row);
            right += Vector512.Load(row + 16);
        }
        left.Store(row);
        right.Store(row + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector256<float> left, Vector256<float> right, TileStore store)
    {
        Vector256<float> alpha = Vector256.Create(store.Alpha);
        left *= alpha;
        right *= alpha;
        if (store.Bias != null)
        {
            left += Vector256.Load(store.Bias);
            right += Vector256.Load(store.Bias + 8);
        }
        if (!store.Overwrite)
        {
            left += Vector256.Load(row);
            right += Vector256.Load(row + 8);
        }
        left.Store(row);
        right.Store(row + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector128<float> left, Vector128<float> right, TileStore store, int offset)
    {
        Vector128<float> alpha = Vector128.Create(store.Alpha);
        left *= alpha;
        right *= alpha;
        if (store.Bias != null)
        {
            left += Vector128.Load(store.Bias + offset);
            right += Vector128.Load(store.Bias + offset + 4);
        }
        if (!store.Overwrite)
        {
            left += Vector128.Load(row + offset);
            right += Vector128.Load(row + offset + 4);
        }
        left.Store(row + offset);
        right.Store(row + offset + 4);
    }
}
