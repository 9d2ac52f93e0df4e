using System.Numerics.Tensors;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Layer norm over contiguous rows and group norm over (batch, channel, time): forward kernels save the per-row mean
/// and reciprocal standard deviation that the backward kernels need. Biased variance, as PyTorch.
/// </summary>
internal static class NormKernels
{
    /// <summary>
    /// y = (x - mean) * rstd * gamma + beta for each of <paramref name="rows"/> rows of <paramref name="size"/>.
    /// gamma/beta (length size) may be empty for no affine transform. mean/rstd have one entry per row. With a
    /// <paramref name="residual"/> (x's shape) the rows normalised are x + residual, added as each row is read (the
    /// sum is stored nowhere but in y, which may be x).
    /// </summary>
    public static void LayerNormForward(ReadOnlySpan<float> x, int rows, int size, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, float eps, Span<float> y, Span<float> mean, Span<float> rstd,
        ReadOnlySpan<float> residual = default)
    {
        unsafe
        {
            fixed (float* px = x, pg = gamma, pb = beta, py = y, pm = mean, pr = rstd, pres = residual)
            {
                nint ax = (nint)px, ag = (nint)pg, ab = (nint)pb, ay = (nint)py, am = (nint)pm, ar = (nint)pr, ares = (nint)pres;
                int gammaLength = gamma.Length, betaLength = beta.Length, residualLength = residual.Length;
                Parallelism.ForParts(rows, Parallelism.PartCount(rows), (_, start, end) =>
                {
                    for (int r = start; r < end; r++)
                    {
                        var kernel = new LayerNormRow((float*)ax + (long)r * size, gammaLength > 0 ? (float*)ag : null,
                            betaLength > 0 ? (float*)ab : null, (float*)ay + (long)r * size, size, eps,
                            (float*)am + r, (float*)ar + r, residualLength > 0 ? (float*)ares + (long)r * size : null);
                        Simd.Run(ref kernel);
                    }
                });
            }
        }
    }

    /// <summary>
    /// Adds the gradients of <see cref="LayerNormForward"/>: dx (if not empty), dgamma and dbeta (if not empty).
    /// </summary>
    public static void LayerNormBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int rows, int size,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd,
        Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        int parts = Parallelism.PartCount(rows);
        bool affineGrads = dgamma.Length > 0 || dbeta.Length > 0;
        float[] partials = BufferPool.Rent(affineGrads ? parts * 2 * size : 1);
        try
        {
            unsafe
            {
                fixed (float* pdy = dy, px = x, pg = gamma, pm = mean, pr = rstd, pdx = dx, ppart = partials)
                {
                    nint ady = (nint)pdy, ax = (nint)px, ag = (nint)pg, am = (nint)pm, ar = (nint)pr,
                        adx = (nint)pdx, apart = (nint)ppart;
                    bool hasGamma = gamma.Length > 0, wantDx = dx.Length > 0;
                    Parallelism.ForParts(rows, parts, (part, start, end) =>
                    {
                        var dGammaPart = new Span<float>((float*)apart + (long)part * 2 * size, affineGrads ? size : 0);
                        var dBetaPart = new Span<float>((float*)apart + ((long)part * 2 + 1) * size, affineGrads ? size : 0);
                        dGammaPart.Clear();
                        dBetaPart.Clear();
                        for (int r = start; r < end; r++)
                        {
                            var kernel = new LayerNormRowBackward((float*)ady + (long)r * size, (float*)ax + (long)r * size,
                                hasGamma ? (float*)ag : null, ((float*)am)[r], ((float*)ar)[r], size,
                                affineGrads ? (float*)apart + (long)part * 2 * size : null,
                                wantDx ? (float*)adx + (long)r * size : null);
                            Simd.Run(ref kernel);
                        }
                    });
                }
            }
            if (affineGrads)
                ReduceAffinePartials(partials, parts, size, dgamma, dbeta);
        }
        finally
        {
            BufferPool.Return(partials);
        }
    }

    /// <summary>
    /// Group norm of x (batch, channels, length) with <paramref name="groups"/> groups of consecutive channels;
    /// gamma/beta are per channel (may be empty). mean/rstd have batch * groups entries.
    /// </summary>
    public static void GroupNormForward(ReadOnlySpan<float> x, int batch, int channels, int length, int groups,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, Span<float> y, Span<float> mean, Span<float> rstd)
    {
        int perGroup = channels / groups;
        int rowSize = perGroup * length;
        LayerNormForward(x, batch * groups, rowSize, [], [], eps, y, mean, rstd);
        if (gamma.Length == 0 && beta.Length == 0)
            return;
        for (int b = 0; b < batch; b++)
        {
            for (int c = 0; c < channels; c++)
            {
                Span<float> row = y.Slice((b * channels + c) * length, length);
                if (gamma.Length > 0)
                    TensorPrimitives.Multiply(row, gamma[c], row);
                if (beta.Length > 0)
                    TensorPrimitives.Add(row, beta[c], row);
            }
        }
    }

    /// <summary>Adds the gradients of <see cref="GroupNormForward"/>.</summary>
    public static void GroupNormBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int batch, int channels,
        int length, int groups, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd,
        Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        int perGroup = channels / groups;
        int rowSize = perGroup * length;
        float[] xhat = BufferPool.Rent(rowSize);
        float[] g = BufferPool.Rent(rowSize);
        try
        {
            // Rows are (batch, group) slabs; channels of one group are consecutive, so each row is contiguous.
            for (int row = 0; row < batch * groups; row++)
            {
                int group = row % groups;
                ReadOnlySpan<float> dyr = dy.Slice(row * rowSize, rowSize);
                Span<float> xh = xhat.AsSpan(0, rowSize), gr = g.AsSpan(0, rowSize);
                TensorPrimitives.Subtract(x.Slice(row * rowSize, rowSize), mean[row], xh);
                TensorPrimitives.Multiply(xh, rstd[row], xh);
                for (int i = 0; i < perGroup; i++)
                {
                    int c = group * perGroup + i;
                    ReadOnlySpan<float> dyc = dyr.Slice(i * length, length);
                    if (dgamma.Length > 0)
                        dgamma[c] += TensorPrimitives.Dot(dyc, xh.Slice(i * length, length));
                    if (dbeta.Length > 0)
                        dbeta[c] += TensorPrimitives.Sum(dyc);
                    if (gamma.Length > 0)
                        TensorPrimitives.Multiply(dyc, gamma[c], gr.Slice(i * length, length));
                    else
                        dyc.CopyTo(gr.Slice(i * length, length));
                }
                if (dx.Length > 0)
                    AddRowInputGradient(gr, xh, rstd[row], dx.Slice(row * rowSize, rowSize));
            }
        }
        finally
        {
            BufferPool.Return(xhat);
            BufferPool.Return(g);
        }
    }

    // Writes the normalised row into y and returns (mean, 1 / sqrt(var + eps)).
    private static (float Mean, float Rstd) NormalizeRow(ReadOnlySpan<float> x, float eps, Span<float> y)
    {
        int n = x.Length;
        if (n == 0)
            return (0, 0);
        float mean = TensorPrimitives.Sum(x) / n;
        TensorPrimitives.Subtract(x, mean, y);
        float variance = TensorPrimitives.SumOfSquares(y) / n;
        float rstd = 1f / MathF.Sqrt(variance + eps);
        TensorPrimitives.Multiply(y, rstd, y);
        return (mean, rstd);
    }

    // dx += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma: the normalisation's backward. Clobbers g.
    private static void AddRowInputGradient(Span<float> g, ReadOnlySpan<float> xhat, float rstd, Span<float> dx)
    {
        int n = g.Length;
        float meanG = TensorPrimitives.Sum(g) / n;
        float meanGx = TensorPrimitives.Dot(g, xhat) / n;
        TensorPrimitives.Subtract(g, meanG, g);
        TensorPrimitives.MultiplyAdd(xhat, -meanGx, g, g);
        TensorPrimitives.MultiplyAdd(g, rstd, dx, dx);
    }

    // One row: mean and 1 / sqrt(var + eps) (two passes, no cancellation), then y = xhat * gamma + beta; with a residual,
    // of x + residual, summed into y first (the row then stays in L1 for the passes).
    private readonly unsafe struct LayerNormRow(float* x, float* gamma, float* beta, float* y, int size, float eps,
        float* mean, float* rstd, float* residual) : IVectorKernel
    {
        public void Run<TVec>() where TVec : struct, ISimd<TVec>
        {
            int n = size - size % TVec.Count;
            float* input = x;
            if (residual != null)
            {
                for (int i = 0; i < n; i += TVec.Count)
                    TVec.Store(TVec.Load(x + i) + TVec.Load(residual + i), y + i);
                AddResidualFrom(n);
                input = y;
            }
            TVec acc = TVec.Create(0f);
            for (int i = 0; i < n; i += TVec.Count)
                acc += TVec.Load(input + i);
            float sum = TVec.Sum(acc);
            for (int i = n; i < size; i++)
                sum += input[i];
            float m = size == 0 ? 0f : sum / size;
            TVec mv = TVec.Create(m);
            acc = TVec.Create(0f);
            for (int i = 0; i < n; i += TVec.Count)
            {
                TVec d = TVec.Load(input + i) - mv;
                acc = TVec.MultiplyAdd(d, d, acc);
            }
            float squares = TVec.Sum(acc);
            for (int i = n; i < size; i++)
                squares += (input[i] - m) * (input[i] - m);
            float r = size == 0 ? 0f : 1f / MathF.Sqrt(squares / size + eps);
            (*mean, *rstd) = (m, r);
            TVec rv = TVec.Create(r);
            for (int i = 0; i < n; i += TVec.Count)
            {
                TVec v = (TVec.Load(input + i) - mv) * rv;
                if (gamma != null)
                    v *= TVec.Load(gamma + i);
                if (beta != null)
                    v += TVec.Load(beta + i);
                TVec.Store(v, y + i);
            }
            Normalize(input, n, m, r);
        }

        public void RunScalar()
        {
            float* input = x;
            if (residual != null)
            {
                AddResidualFrom(0);
                input = y;
            }
            float sum = 0f, squares = 0f;
            for (int i = 0; i < size; i++)
                sum += input[i];
            float m = size == 0 ? 0f : sum / size;
            for (int i = 0; i < size; i++)
                squares += (input[i] - m) * (input[i] - m);
            float r = size == 0 ? 0f : 1f / MathF.Sqrt(squares / size + eps);
            (*mean, *rstd) = (m, r);
            Normalize(input, 0, m, r);
        }

        private void AddResidualFrom(int from)
        {
            for (int i = from; i < size; i++)
                y[i] = x[i] + residual[i];
        }

        private void Normalize(float* input, int from, float m, float r)
        {
            for (int i = from; i < size; i++)
                y[i] = (input[i] - m) * r * (gamma == null ? 1f : gamma[i]) + (beta == null ? 0f : beta[i]);
        }
    }

    // One row's backward: dgamma += dy * xhat, dbeta += dy (partials, when not null), and
    // dx += rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma (when dx is not null).
    private readonly unsafe struct LayerNormRowBackward(float* dy, float* x, float* gamma, float mean, float rstd, int size,
        float* partials, float* dx) : IVectorKernel
    {
        public void Run<TVec>() where TVec : struct, ISimd<TVec>
        {
            int n = size - size % TVec.Count;
            TVec mv = TVec.Create(mean), rv = TVec.Create(rstd), sumG = TVec.Create(0f), sumGx = TVec.Create(0f);
            for (int i = 0; i < n; i += TVec.Count)
            {
                TVec d = TVec.Load(dy + i), xhat = (TVec.Load(x + i) - mv) * rv;
                if (partials != null)
                {
                    TVec.Store(TVec.MultiplyAdd(d, xhat, TVec.Load(partials + i)), partials + i);
                    TVec.Store(TVec.Load(partials + size + i) + d, partials + size + i);
                }
                TVec g = gamma == null ? d : d * TVec.Load(gamma + i);
                sumG += g;
                sumGx = TVec.MultiplyAdd(g, xhat, sumGx);
            }
            (float g1, float g2) = Sums(n, TVec.Sum(sumG), TVec.Sum(sumGx));
            if (dx == null)
                return;
            TVec meanG = TVec.Create(g1 / size), meanGx = TVec.Create(g2 / size);
            for (int i = 0; i < n; i += TVec.Count)
            {
                TVec d = TVec.Load(dy + i), xhat = (TVec.Load(x + i) - mv) * rv;
                TVec g = gamma == null ? d : d * TVec.Load(gamma + i);
                TVec.Store(TVec.MultiplyAdd(g - meanG - xhat * meanGx, rv, TVec.Load(dx + i)), dx + i);
            }
            Apply(n, g1 / size, g2 / size);
        }

        public void RunScalar()
        {
            (float g1, float g2) = Sums(0, 0f, 0f);
            if (dx != null)
                Apply(0, g1 / size, g2 / size);
        }

        // Steps [from, size) of the first pass; returns the totals of g and g * xhat.
        private (float G, float Gx) Sums(int from, float sumG, float sumGx)
        {
            for (int i = from; i < size; i++)
            {
                float xhat = (x[i] - mean) * rstd, g = dy[i] * (gamma == null ? 1f : gamma[i]);
                if (partials != null)
                {
                    partials[i] += dy[i] * xhat;
                    partials[size + i] += dy[i];
                }
                sumG += g;
                sumGx += g * xhat;
            }
            return (sumG, sumGx);
        }

        private void Apply(int from, float meanG, float meanGx)
        {
            for (int i = from; i < size; i++)
            {
                float xhat = (x[i] - mean) * rstd, g = dy[i] * (gamma == null ? 1f : gamma[i]);
                dx[i] += (g - meanG - xhat * meanGx) * rstd;
            }
        }
    }

    private static void ReduceAffinePartials(float[] partials, int parts, int size, Span<float> dgamma, Span<float> dbeta)
    {
        for (int part = 0; part < parts; part++)
        {
            if (dgamma.Length > 0)
                TensorPrimitives.Add(dgamma, partials.AsSpan(part * 2 * size, size), dgamma);
            if (dbeta.Length > 0)
                TensorPrimitives.Add(dbeta, partials.AsSpan((part * 2 + 1) * size, size), dbeta);
        }
    }
}
