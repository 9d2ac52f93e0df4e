using System.Numerics.Tensors;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Reductions and scalings of weight normalisation over a tensor viewed as (outer, size, inner): one value per index j
/// of the middle dimension. With inner = 1 (the positional conv's kernel dimension, the last) each row of `size`
/// values is one vector operation, instead of one call per element.
/// </summary>
internal static class WeightNormKernels
{
    /// <summary>result[j] = sum over (o, i) of a[o, j, i] * b[o, j, i].</summary>
    public static void Dots(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int outer, int size, int inner, Span<double> result)
    {
        result.Clear();
        if (inner == 1)
        {
            float[] row = BufferPool.Rent(size);
            try
            {
                Span<float> acc = row.AsSpan(0, size);   // (size)
                acc.Clear();
                for (int o = 0; o < outer; o++)
                    TensorPrimitives.FusedMultiplyAdd(a.Slice(o * size, size), b.Slice(o * size, size), acc, acc);
                for (int j = 0; j < size; j++)
                    result[j] = acc[j];
            }
            finally
            {
                BufferPool.Return(row);
            }
            return;
        }
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < size; j++)
                result[j] += TensorPrimitives.Dot(a.Slice((o * size + j) * inner, inner), b.Slice((o * size + j) * inner, inner));
    }

    /// <summary>y[o, j, i] (+)= sa[j] * a[o, j, i] (+ sb[j] * b[o, j, i] when b is not empty).</summary>
    public static void Scale(ReadOnlySpan<float> a, ReadOnlySpan<float> sa, ReadOnlySpan<float> b, ReadOnlySpan<float> sb,
        int outer, int size, int inner, Span<float> y, bool accumulate)
    {
        for (int o = 0; o < outer; o++)
        {
            if (inner == 1)
            {
                Span<float> yr = y.Slice(o * size, size);
                if (!accumulate)
                    yr.Clear();
                TensorPrimitives.FusedMultiplyAdd(a.Slice(o * size, size), sa, yr, yr);
                if (b.Length > 0)
                    TensorPrimitives.FusedMultiplyAdd(b.Slice(o * size, size), sb, yr, yr);
                continue;
            }
            for (int j = 0; j < size; j++)
            {
                int offset = (o * size + j) * inner;
                Span<float> ys = y.Slice(offset, inner);
                if (!accumulate)
                    ys.Clear();
                TensorPrimitives.MultiplyAdd(a.Slice(offset, inner), sa[j], ys, ys);
                if (b.Length > 0)
                    TensorPrimitives.MultiplyAdd(b.Slice(offset, inner), sb[j], ys, ys);
            }
        }
    }
}
