using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Exact (erf) GELU, row softmax / log-softmax and their backward kernels. GELU's erf is the Abramowitz-Stegun 7.1.26
/// rational form (absolute error below 1.5e-7), vectorised with 256-bit lanes; <see cref="GeluScalar"/> is its twin.
/// </summary>
internal static class ActivationKernels
{
    private const float P = 0.3275911f;
    private const float A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;
    private const int ParallelGrain = 1 << 15;

    /// <summary>y = x * Phi(x), Phi the standard normal CDF (PyTorch's default GELU).</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        ForChunks(x, y, y, static (xs, _, ys) =>
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 8 <= xs.Length; i += 8)
                {
                    Vector256<float> v = Vector256.Create(xs.Slice(i, 8));
                    (v * NormalCdf(v)).CopyTo(ys.Slice(i, 8));
                }
            }
            for (; i < xs.Length; i++)
                ys[i] = GeluScalar(xs[i]);
        });
    }

    /// <summary>dx += dy * (Phi(x) + x * phi(x)).</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        ForChunks(x, dy, dx, static (xs, dys, dxs) =>
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 8 <= xs.Length; i += 8)
                {
                    Vector256<float> v = Vector256.Create(xs.Slice(i, 8));
                    Vector256<float> pdf = Vector256.Exp(v * v * -0.5f) * InvSqrt2Pi;
                    Vector256<float> derivative = NormalCdf(v) + v * pdf;
                    (Vector256.Create(dxs.Slice(i, 8)) + Vector256.Create(dys.Slice(i, 8)) * derivative).CopyTo(dxs.Slice(i, 8));
                }
            }
            for (; i < xs.Length; i++)
                dxs[i] += dys[i] * GeluDerivativeScalar(xs[i]);
        });
    }

    /// <summary>Scalar twin of the vectorised GELU.</summary>
    public static float GeluScalar(float x) => x * NormalCdfScalar(x);

    /// <summary>Scalar twin of the vectorised GELU derivative.</summary>
    public static float GeluDerivativeScalar(float x) =>
        NormalCdfScalar(x) + x * MathF.Exp(-0.5f * x * x) * InvSqrt2Pi;

    /// <summary>erf(x), Abramowitz-Stegun 7.1.26.</summary>
    public static float Erf(float x)
    {
        float ax = MathF.Abs(x);
        float t = 1f / (1f + P * ax);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        float value = 1f - poly * MathF.Exp(-ax * ax);
        return x < 0 ? -value : value;
    }

    private static float NormalCdfScalar(float x) => 0.5f * (1f + Erf(x * InvSqrt2));

    private static Vector256<float> NormalCdf(Vector256<float> x)
    {
        Vector256<float> z = x * InvSqrt2;
        Vector256<float> az = Vector256.Abs(z);
        Vector256<float> t = Vector256<float>.One / (Vector256<float>.One + az * P);
        Vector256<float> poly = ((((t * A5 + Vector256.Create(A4)) * t + Vector256.Create(A3)) * t
            + Vector256.Create(A2)) * t + Vector256.Create(A1)) * t;
        Vector256<float> erfAbs = Vector256<float>.One - poly * Vector256.Exp(-(az * az));
        Vector256<float> erf = Vector256.ConditionalSelect(Vector256.LessThan(z, Vector256<float>.Zero), -erfAbs, erfAbs);
        return (Vector256<float>.One + erf) * 0.5f;
    }

    private delegate void ChunkKernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output);

    // Runs an element-wise kernel over large arrays on all cores in fixed chunks.
    private static unsafe void ForChunks(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, ChunkKernel kernel)
    {
        int n = a.Length;
        if (n <= ParallelGrain)
        {
            kernel(a, b, output);
            return;
        }
        fixed (float* pa = a, pb = b, po = output)
        {
            nint aa = (nint)pa, ab = (nint)pb, ao = (nint)po;
            int chunks = (n + ParallelGrain - 1) / ParallelGrain;
            Parallelism.For(chunks, chunk =>
            {
                int start = chunk * ParallelGrain, length = Math.Min(ParallelGrain, n - start);
                kernel(new ReadOnlySpan<float>((float*)aa + start, length), new ReadOnlySpan<float>((float*)ab + start, length),
                    new Span<float>((float*)ao + start, length));
            });
        }
    }

    /// <summary>Softmax of each row of <paramref name="cols"/> values; -infinity entries get probability 0.</summary>
    public static void SoftmaxRows(ReadOnlySpan<float> x, int rows, int cols, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
            SoftmaxRow(x.Slice(r * cols, cols), y.Slice(r * cols, cols));
    }

    /// <summary>Softmax of one row; a row with no finite entry becomes all zeros.</summary>
    public static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length == 0)
            return;
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max))
        {
            y.Clear();
            return;
        }
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        TensorPrimitives.Multiply(y, 1f / TensorPrimitives.Sum(y), y);
    }

    /// <summary>Log-softmax of each row: x - max - log(sum(exp(x - max))).</summary>
    public static void LogSoftmaxRows(ReadOnlySpan<float> x, int rows, int cols, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * cols, cols);
            Span<float> yr = y.Slice(r * cols, cols);
            if (cols == 0)
                continue;
            float max = TensorPrimitives.Max(xr);
            TensorPrimitives.Subtract(xr, max, yr);
            TensorPrimitives.Exp(yr, yr);
            float logSum = MathF.Log(TensorPrimitives.Sum(yr));
            TensorPrimitives.Subtract(xr, max + logSum, yr);
        }
    }

    /// <summary>dx += y * (dy - sum(dy * y)) per row, y the softmax output.</summary>
    public static void SoftmaxBackwardRows(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int rows, int cols, Span<float> dx)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> yr = y.Slice(r * cols, cols), dyr = dy.Slice(r * cols, cols);
            Span<float> dxr = dx.Slice(r * cols, cols);
            float dot = TensorPrimitives.Dot(yr, dyr);
            for (int j = 0; j < cols; j++)
                dxr[j] += yr[j] * (dyr[j] - dot);
        }
    }

    /// <summary>dx += dy - exp(y) * sum(dy) per row, y the log-softmax output.</summary>
    public static void LogSoftmaxBackwardRows(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int rows, int cols, Span<float> dx)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> yr = y.Slice(r * cols, cols), dyr = dy.Slice(r * cols, cols);
            Span<float> dxr = dx.Slice(r * cols, cols);
            float sum = TensorPrimitives.Sum(dyr);
            for (int j = 0; j < cols; j++)
                dxr[j] += dyr[j] - MathF.Exp(yr[j]) * sum;
        }
    }
}
