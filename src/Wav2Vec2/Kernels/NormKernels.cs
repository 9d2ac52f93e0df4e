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
    /// gamma/beta (length size) may be empty for no affine transform. mean/rstd have one entry per row.
    /// </summary>
    public static void LayerNormForward(ReadOnlySpan<float> x, int rows, int size, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, float eps, Span<float> y, Span<float> mean, Span<float> rstd)
    {
        unsafe
        {
            fixed (float* px = x, pg = gamma, pb = beta, py = y, pm = mean, pr = rstd)
            {
                nint ax = (nint)px, ag = (nint)pg, ab = (nint)pb, ay = (nint)py, am = (nint)pm, ar = (nint)pr;
                int gammaLength = gamma.Length, betaLength = beta.Length;
                Parallelism.ForParts(rows, Parallelism.PartCount(rows), (_, start, end) =>
                {
                    for (int r = start; r < end; r++)
                    {
                        var xr = new ReadOnlySpan<float>((float*)ax + (long)r * size, size);
                        var yr = new Span<float>((float*)ay + (long)r * size, size);
                        (((float*)am)[r], ((float*)ar)[r]) = NormalizeRow(xr, eps, yr);
                        if (gammaLength > 0)
                            TensorPrimitives.Multiply(yr, new ReadOnlySpan<float>((float*)ag, size), yr);
                        if (betaLength > 0)
                            TensorPrimitives.Add(yr, new ReadOnlySpan<float>((float*)ab, size), yr);
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
        float[] scratch = BufferPool.Rent(parts * 2 * size);
        try
        {
            unsafe
            {
                fixed (float* pdy = dy, px = x, pg = gamma, pm = mean, pr = rstd, pdx = dx, ppart = partials, ps = scratch)
                {
                    nint ady = (nint)pdy, ax = (nint)px, ag = (nint)pg, am = (nint)pm, ar = (nint)pr,
                        adx = (nint)pdx, apart = (nint)ppart, ascratch = (nint)ps;
                    bool hasGamma = gamma.Length > 0, wantDx = dx.Length > 0;
                    Parallelism.ForParts(rows, parts, (part, start, end) =>
                    {
                        var xhat = new Span<float>((float*)ascratch + (long)part * 2 * size, size);
                        var g = new Span<float>((float*)ascratch + ((long)part * 2 + 1) * size, size);
                        var dGammaPart = new Span<float>((float*)apart + (long)part * 2 * size, affineGrads ? size : 0);
                        var dBetaPart = new Span<float>((float*)apart + ((long)part * 2 + 1) * size, affineGrads ? size : 0);
                        dGammaPart.Clear();
                        dBetaPart.Clear();
                        for (int r = start; r < end; r++)
                        {
                            var dyr = new ReadOnlySpan<float>((float*)ady + (long)r * size, size);
                            var xr = new ReadOnlySpan<float>((float*)ax + (long)r * size, size);
                            float m = ((float*)am)[r], s = ((float*)ar)[r];
                            TensorPrimitives.Subtract(xr, m, xhat);
                            TensorPrimitives.Multiply(xhat, s, xhat);
                            if (affineGrads)
                            {
                                TensorPrimitives.FusedMultiplyAdd(dyr, xhat, dGammaPart, dGammaPart);
                                TensorPrimitives.Add(dyr, dBetaPart, dBetaPart);
                            }
                            if (!wantDx)
                                continue;
                            if (hasGamma)
                                TensorPrimitives.Multiply(dyr, new ReadOnlySpan<float>((float*)ag, size), g);
                            else
                                dyr.CopyTo(g);
                            AddRowInputGradient(g, xhat, s, new Span<float>((float*)adx + (long)r * size, size));
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
            BufferPool.Return(scratch);
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
