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
        ReadOnlySpan<float> bias = default)
    {
        Gemm.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }
                float previous = beta == 0 ? 0 : beta * c[i * ldc + j];
                c[i * ldc + j] = (float)(alpha * sum) + (bias.Length > 0 ? bias[j] : 0f) + previous;
            }
        }
    }
}
