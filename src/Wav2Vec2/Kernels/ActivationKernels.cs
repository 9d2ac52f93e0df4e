using System.Numerics.Tensors;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Exact (erf) GELU, row softmax / log-softmax and their backward kernels. GELU's erf is the Abramowitz-Stegun 7.1.26
/// rational form (absolute error below 1.5e-7), generic over the vector width; <see cref="GeluScalar"/> is its twin.
/// </summary>
internal static class ActivationKernels
{
    private const float P = 0.3275911f;
    private const float A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;
    private const int ParallelGrain = 1 << 15;

    /// <summary>y = x * Phi(x), Phi the standard normal CDF (PyTorch's default GELU). y may be x.</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y) =>
        ForChunks(x, x, y, static (xs, _, ys) => GeluChunk(xs, default, ys));

    /// <summary>dx += dy * (Phi(x) + x * phi(x)).</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) =>
        ForChunks(x, dy, dx, static (xs, dys, dxs) => GeluChunk(xs, dys, dxs));

    /// <summary>
    /// GELU in place over a rows x cols tile with row stride ld (a GEMM's epilogue). <paramref name="coarse"/> takes the
    /// normal CDF's exponential from <see cref="ISimd{TSelf}.ExpNonPositive"/> (4e-5 relative instead of float
    /// precision): for outputs that an int8 product reads next, at 7 or 8 bits.
    /// </summary>
    public static unsafe void GeluTile(float* tile, int ld, int rows, int cols, bool coarse = false)
    {
        for (int r = 0; r < rows; r++)
        {
            var kernel = new GeluKernel(tile + (long)r * ld, null, tile + (long)r * ld, cols, coarse);
            Simd.Run(ref kernel);
        }
    }

    // Forward when dy is empty, else the backward's accumulation.
    private static unsafe void GeluChunk(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> output)
    {
        fixed (float* px = x, pdy = dy, po = output)
        {
            var kernel = new GeluKernel(px, dy.Length > 0 ? pdy : null, po, x.Length);
            Simd.Run(ref kernel);
        }
    }

    private readonly unsafe struct GeluKernel(float* x, float* dy, float* output, int n, bool coarse = false) : IVectorKernel
    {
        public void Run<TVec>() where TVec : struct, ISimd<TVec>
        {
            int i = 0;
            for (; i <= n - TVec.Count; i += TVec.Count)
            {
                TVec v = TVec.Load(x + i);
                if (dy == null)
                {
                    TVec.Store(Gelu(v, coarse), output + i);
                    continue;
                }
                TVec pdf = TVec.Exp(v * v * TVec.Create(-0.5f)) * TVec.Create(InvSqrt2Pi);
                TVec derivative = TVec.MultiplyAdd(v, pdf, NormalCdf(v));
                TVec.Store(TVec.MultiplyAdd(TVec.Load(dy + i), derivative, TVec.Load(output + i)), output + i);
            }
            Scalar(i);
        }

        public void RunScalar() => Scalar(0);

        private void Scalar(int from)
        {
            for (int i = from; i < n; i++)
                output[i] = dy == null ? GeluScalar(x[i]) : output[i] + dy[i] * GeluDerivativeScalar(x[i]);
        }
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

    /// <summary>
    /// GELU of every lane (the vector form of <see cref="GeluScalar"/>); <paramref name="coarse"/> as in
    /// <see cref="GeluTile"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static TVec Gelu<TVec>(TVec x, bool coarse = false) where TVec : struct, ISimd<TVec> => x * NormalCdf(x, coarse);

    private static TVec NormalCdf<TVec>(TVec x, bool coarse = false) where TVec : struct, ISimd<TVec>
    {
        TVec one = TVec.Create(1f);
        TVec z = x * TVec.Create(InvSqrt2);
        TVec az = TVec.Abs(z);
        TVec t = one / TVec.MultiplyAdd(az, TVec.Create(P), one);
        TVec poly = TVec.MultiplyAdd(TVec.MultiplyAdd(TVec.MultiplyAdd(TVec.MultiplyAdd(t, TVec.Create(A5), TVec.Create(A4)),
            t, TVec.Create(A3)), t, TVec.Create(A2)), t, TVec.Create(A1)) * t;
        TVec erfAbs = one - poly * (coarse ? TVec.ExpNonPositive(-(az * az)) : TVec.Exp(-(az * az)));
        return (one + TVec.WhereNegative(z, -erfAbs, erfAbs)) * TVec.Create(0.5f);
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

    /// <summary>Softmax of one row; a row with no finite entry becomes all zeros. y may be x.</summary>
    public static unsafe void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length == 0)
            return;
        fixed (float* px = x, py = y)
        {
            var kernel = new SoftmaxKernel(px, py, null, 0, x.Length, null);
            Simd.Run(ref kernel);
        }
    }

    /// <summary>
    /// The softmax of one row quantised for an int8 product: q = round(levels * exp(x - max x)), in [0, levels], and
    /// returns sum exp(x - max x), so that the softmax is q / (levels * sum) up to the rounding. A row with no finite
    /// entry gives zeros and sum 0.
    /// </summary>
    public static unsafe float QuantizedSoftmaxRow(ReadOnlySpan<float> x, Span<byte> q, int levels)
    {
        float sum = 0f;
        if (q.Length < x.Length)
            throw new ArgumentException($"{q.Length} bytes for a row of {x.Length}.");
        if (x.Length == 0)
            return sum;
        fixed (float* px = x)
        fixed (byte* pq = q)
        {
            var kernel = new SoftmaxKernel(px, null, pq, levels, x.Length, &sum);
            Simd.Run(ref kernel);
        }
        return sum;
    }

    // max, then exp(x - max) and its sum, then the scaling into y: three passes over the row. Quantised (q given), the
    // second pass stores round(levels * exp(x - max)) in q (with the cheaper exponential the rounding allows) and the
    // sum in `sum`, and there is no third.
    private readonly unsafe struct SoftmaxKernel(float* x, float* y, byte* q, int levels, int n, float* sum) : IVectorKernel
    {
        public void Run<TVec>() where TVec : struct, ISimd<TVec>
        {
            int full = n - n % TVec.Count;
            float max = float.NegativeInfinity;
            if (full > 0)
            {
                TVec m = TVec.Load(x);
                for (int i = TVec.Count; i < full; i += TVec.Count)
                    m = TVec.Max(m, TVec.Load(x + i));
                max = TVec.MaxAcross(m);
            }
            for (int i = full; i < n; i++)
                max = MathF.Max(max, x[i]);
            if (float.IsNegativeInfinity(max))
            {
                Clear();
                return;
            }
            TVec mv = TVec.Create(max), acc = TVec.Create(0f);
            if (q != null)
            {
                TVec top = TVec.Create(levels);
                for (int i = 0; i < full; i += TVec.Count)
                {
                    TVec e = TVec.ExpNonPositive(TVec.Load(x + i) - mv);
                    acc += e;
                    TVec.StoreBytes(TVec.Round(e * top), q + i);
                }
                float quantisedTotal = TVec.Sum(acc);
                for (int i = full; i < n; i++)
                    quantisedTotal += Quantized(i, max);
                *sum = quantisedTotal;
                return;
            }
            for (int i = 0; i < full; i += TVec.Count)
            {
                TVec e = TVec.Exp(TVec.Load(x + i) - mv);
                acc += e;
                TVec.Store(e, y + i);
            }
            float total = TVec.Sum(acc);
            for (int i = full; i < n; i++)
                total += y[i] = MathF.Exp(x[i] - max);
            TVec scale = TVec.Create(1f / total);
            for (int i = 0; i < full; i += TVec.Count)
                TVec.Store(TVec.Load(y + i) * scale, y + i);
            for (int i = full; i < n; i++)
                y[i] *= 1f / total;
        }

        public void RunScalar()
        {
            float max = float.NegativeInfinity, total = 0f;
            for (int i = 0; i < n; i++)
                max = MathF.Max(max, x[i]);
            if (float.IsNegativeInfinity(max))
            {
                Clear();
                return;
            }
            if (q != null)
            {
                for (int i = 0; i < n; i++)
                    total += Quantized(i, max);
                *sum = total;
                return;
            }
            for (int i = 0; i < n; i++)
                total += y[i] = MathF.Exp(x[i] - max);
            for (int i = 0; i < n; i++)
                y[i] *= 1f / total;
        }

        // q[i] = round(levels * exp(x[i] - max)); returns the exponential.
        private float Quantized(int i, float max)
        {
            float e = MathF.Exp(x[i] - max);
            q[i] = (byte)MathF.Round(e * levels);
            return e;
        }

        private void Clear()
        {
            if (q == null)
                new Span<float>(y, n).Clear();
            else
            {
                new Span<byte>(q, n).Clear();
                *sum = 0f;
            }
        }
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
    public static unsafe void SoftmaxBackwardRows(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int rows, int cols, Span<float> dx)
    {
        fixed (float* py = y, pdy = dy, pdx = dx)
            for (int r = 0; r < rows; r++)
            {
                var kernel = new SoftmaxBackwardKernel(py + (long)r * cols, pdy + (long)r * cols, pdx + (long)r * cols, cols);
                Simd.Run(ref kernel);
            }
    }

    private readonly unsafe struct SoftmaxBackwardKernel(float* y, float* dy, float* dx, int n) : IVectorKernel
    {
        public void Run<TVec>() where TVec : struct, ISimd<TVec>
        {
            int full = n - n % TVec.Count;
            TVec acc = TVec.Create(0f);
            for (int i = 0; i < full; i += TVec.Count)
                acc = TVec.MultiplyAdd(TVec.Load(y + i), TVec.Load(dy + i), acc);
            float dot = TVec.Sum(acc);
            for (int i = full; i < n; i++)
                dot += y[i] * dy[i];
            TVec dv = TVec.Create(dot);
            for (int i = 0; i < full; i += TVec.Count)
                TVec.Store(TVec.MultiplyAdd(TVec.Load(y + i), TVec.Load(dy + i) - dv, TVec.Load(dx + i)), dx + i);
            Apply(full, dot);
        }

        public void RunScalar()
        {
            float dot = 0f;
            for (int i = 0; i < n; i++)
                dot += y[i] * dy[i];
            Apply(0, dot);
        }

        private void Apply(int from, float dot)
        {
            for (int i = from; i < n; i++)
                dx[i] += y[i] * (dy[i] - dot);
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
