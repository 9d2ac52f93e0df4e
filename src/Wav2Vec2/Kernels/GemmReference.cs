namespace Wav2Vec2.Kernels;

/// <summary>
/// Plain scalar twin of <see cref="Gemm"/>: the definition the optimised kernels are tested against.
/// Accumulates in double so that it is the more accurate of the two.
/// </summary>
internal static class GemmReference
{
    /// <summary>C = alpha * op(A) * op(B) + beta * C (+ bias), row-major, with the same contract as <see cref="Gemm.Sgemm"/>.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        ReadOnlySpan<float> bias = default, ColumnSegments aColumns = default, ColumnSegments bColumns = default,
        bool gelu = false)
    {
        Gemm.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, aColumns, bColumns);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[(int)(p * lda + aColumns.Offset(i))] : a[(int)(i * lda + aColumns.Offset(p))];
                    float bv = transB ? b[(int)(j * ldb + bColumns.Offset(p))] : b[(int)(p * ldb + bColumns.Offset(j))];
                    sum += (double)av * bv;
                }
                float previous = beta == 0 ? 0 : beta * c[i * ldc + j];
                float value = (float)(alpha * sum) + (bias.Length > 0 ? bias[j] : 0f) + previous;
                c[i * ldc + j] = gelu ? ActivationKernels.GeluScalar(value) : value;
            }
        }
    }
}
