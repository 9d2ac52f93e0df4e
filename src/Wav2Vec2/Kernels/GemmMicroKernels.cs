using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Micro-kernels of <see cref="Gemm"/>: tile(C) (+)= alpha * A * panelB (+ bias) over kc steps, panel B holding NR
/// values per step (see <see cref="GemmPacking"/>) and A read as <see cref="PanelA"/> says (a packed panel, or A in
/// place). AVX-512: 12 x 32 (24 of the 32 vector registers accumulate); AVX2: 6 x 16 (12 of 16); Vector128: 6 x 16 one
/// row at a time. All are written with the portable Vector APIs, so every path runs (emulated where the CPU lacks it)
/// and is tested on every machine.
/// </summary>
[SkipLocalsInit]
internal static unsafe class GemmMicroKernels
{
    /// <summary>One MR x NR tile with the micro-kernel of <paramref name="path"/> (the geometry's path: the AVX-512 path
    /// runs the 6 x 16 tile for some narrow products).</summary>
    public static void Tile(KernelPath path, int kc, PanelA a, float* b, float* c, int ldc, TileStore store, int mr, int nr)
    {
        GemmGeometry g = GemmGeometry.For(path);
        if (mr == g.MR && nr == g.NR)
        {
            Run(path, kc, a, b, c, ldc, store);
            // GELU as a second pass over the tile, still in L1: inside the micro-kernel it would cost registers.
            if (store.Gelu)
                ActivationKernels.GeluTile(c, ldc, mr, nr);
            return;
        }
        // Partial tiles are computed whole into a scratch tile and the valid part is merged into C.
        float* scratch = stackalloc float[g.MR * g.NR];
        Run(path, kc, a, b, scratch, g.NR, new TileStore(store.Alpha, true, store.Bias, false));
        for (int i = 0; i < mr; i++)
        {
            float* src = scratch + i * g.NR;
            float* dst = c + (long)i * ldc;
            for (int j = 0; j < nr; j++)
            {
                float value = store.Overwrite ? src[j] : dst[j] + src[j];
                dst[j] = store.Gelu ? ActivationKernels.GeluScalar(value) : value;
            }
        }
    }

    private static void Run(KernelPath path, int kc, PanelA a, float* b, float* c, int ldc, TileStore store)
    {
        bool packed = a.RowStride == 1;
        switch (path)
        {
            case KernelPath.Avx512 when packed: Avx512Tile<NextRows>(kc, a, b, c, ldc, store); break;
            case KernelPath.Avx512: Avx512Tile<StridedRows>(kc, a, b, c, ldc, store); break;
            case KernelPath.Avx2 when packed: Avx2Tile<NextRows>(kc, a, b, c, ldc, store); break;
            case KernelPath.Avx2: Avx2Tile<StridedRows>(kc, a, b, c, ldc, store); break;
            default: PortableTile(kc, a, b, c, ldc, store); break;
        }
    }

    /// <summary>Address of row r of A at the current step: a + r (packed panel) or a + r * stride (A in place).</summary>
    private interface IRows
    {
        static abstract float* Row(float* a, int r, nint stride);
    }

    private struct NextRows : IRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float* Row(float* a, int r, nint stride) => a + r;
    }

    private struct StridedRows : IRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float* Row(float* a, int r, nint stride) => a + r * stride;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Tile<TRows>(int kc, PanelA panel, float* b, float* c, int ldc, TileStore store)
        where TRows : struct, IRows
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
        float* a = panel.Start;
        nint rs = panel.RowStride, step = panel.StepStride;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> av = Vector512.Create(*TRows.Row(a, 0, rs));
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(*TRows.Row(a, 1, rs));
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(*TRows.Row(a, 2, rs));
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(*TRows.Row(a, 3, rs));
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(*TRows.Row(a, 4, rs));
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(*TRows.Row(a, 5, rs));
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(*TRows.Row(a, 6, rs));
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(*TRows.Row(a, 7, rs));
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            av = Vector512.Create(*TRows.Row(a, 8, rs));
            c80 = Vector512.FusedMultiplyAdd(av, b0, c80); c81 = Vector512.FusedMultiplyAdd(av, b1, c81);
            av = Vector512.Create(*TRows.Row(a, 9, rs));
            c90 = Vector512.FusedMultiplyAdd(av, b0, c90); c91 = Vector512.FusedMultiplyAdd(av, b1, c91);
            av = Vector512.Create(*TRows.Row(a, 10, rs));
            cA0 = Vector512.FusedMultiplyAdd(av, b0, cA0); cA1 = Vector512.FusedMultiplyAdd(av, b1, cA1);
            av = Vector512.Create(*TRows.Row(a, 11, rs));
            cB0 = Vector512.FusedMultiplyAdd(av, b0, cB0); cB1 = Vector512.FusedMultiplyAdd(av, b1, cB1);
            a += step;
            b += 32;
        }
        Store<Simd512>(c, new(c00), new(c01), store); Store<Simd512>(c + ldc, new(c10), new(c11), store);
        Store<Simd512>(c + 2 * ldc, new(c20), new(c21), store); Store<Simd512>(c + 3 * ldc, new(c30), new(c31), store);
        Store<Simd512>(c + 4 * ldc, new(c40), new(c41), store); Store<Simd512>(c + 5 * ldc, new(c50), new(c51), store);
        Store<Simd512>(c + 6 * ldc, new(c60), new(c61), store); Store<Simd512>(c + 7 * ldc, new(c70), new(c71), store);
        Store<Simd512>(c + 8 * ldc, new(c80), new(c81), store); Store<Simd512>(c + 9 * ldc, new(c90), new(c91), store);
        Store<Simd512>(c + 10 * ldc, new(cA0), new(cA1), store); Store<Simd512>(c + 11 * ldc, new(cB0), new(cB1), store);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Tile<TRows>(int kc, PanelA panel, float* b, float* c, int ldc, TileStore store)
        where TRows : struct, IRows
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* a = panel.Start;
        nint rs = panel.RowStride, step = panel.StepStride;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> av = Vector256.Create(*TRows.Row(a, 0, rs));
            c00 = Vector256.FusedMultiplyAdd(av, b0, c00); c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
            av = Vector256.Create(*TRows.Row(a, 1, rs));
            c10 = Vector256.FusedMultiplyAdd(av, b0, c10); c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
            av = Vector256.Create(*TRows.Row(a, 2, rs));
            c20 = Vector256.FusedMultiplyAdd(av, b0, c20); c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
            av = Vector256.Create(*TRows.Row(a, 3, rs));
            c30 = Vector256.FusedMultiplyAdd(av, b0, c30); c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
            av = Vector256.Create(*TRows.Row(a, 4, rs));
            c40 = Vector256.FusedMultiplyAdd(av, b0, c40); c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
            av = Vector256.Create(*TRows.Row(a, 5, rs));
            c50 = Vector256.FusedMultiplyAdd(av, b0, c50); c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
            a += step;
            b += 16;
        }
        Store<Simd256>(c, new(c00), new(c01), store); Store<Simd256>(c + ldc, new(c10), new(c11), store);
        Store<Simd256>(c + 2 * ldc, new(c20), new(c21), store); Store<Simd256>(c + 3 * ldc, new(c30), new(c31), store);
        Store<Simd256>(c + 4 * ldc, new(c40), new(c41), store); Store<Simd256>(c + 5 * ldc, new(c50), new(c51), store);
    }

    // One row of the tile at a time, four 128-bit accumulators per row (mul + add: no FMA assumed).
    private static void PortableTile(int kc, PanelA panel, float* b, float* c, int ldc, TileStore store)
    {
        for (int i = 0; i < 6; i++)
        {
            Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            float* pa = panel.Start + (long)i * panel.RowStride;
            float* pb = b;
            for (int p = 0; p < kc; p++)
            {
                Vector128<float> av = Vector128.Create(*pa);
                acc0 += av * Vector128.Load(pb);
                acc1 += av * Vector128.Load(pb + 4);
                acc2 += av * Vector128.Load(pb + 8);
                acc3 += av * Vector128.Load(pb + 12);
                pa += panel.StepStride;
                pb += 16;
            }
            float* row = c + (long)i * ldc;
            Store<Simd128>(row, new(acc0), new(acc1), store);
            Store<Simd128>(row + 8, new(acc2), new(acc3), store.At(8));
        }
    }

    // row[0..2W) = alpha * (left, right) (+ bias) (+ row when accumulating), W the vector width.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TVec>(float* row, TVec left, TVec right, TileStore store) where TVec : struct, ISimd<TVec>
    {
        TVec alpha = TVec.Create(store.Alpha);
        left *= alpha;
        right *= alpha;
        if (store.Bias != null)
        {
            left += TVec.Load(store.Bias);
            right += TVec.Load(store.Bias + TVec.Count);
        }
        if (!store.Overwrite)
        {
            left += TVec.Load(row);
            right += TVec.Load(row + TVec.Count);
        }
        TVec.Store(left, row);
        TVec.Store(right, row + TVec.Count);
    }
}
