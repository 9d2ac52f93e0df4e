using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Group norm of channels-last x (batch, length, channels), groups of consecutive channels normalised over time and
/// their channels (fairseq's "group" feature-encoder norm has one channel per group): two passes over the rows, one
/// for per-channel sums (<see cref="ColumnMoments"/>), one per-channel affine map (<see cref="ChannelAffine"/>), both
/// generic over the vector width. Threads own disjoint ranges of groups. Biased variance, as PyTorch.
/// </summary>
internal static unsafe class ChannelsLastNormKernels
{
    // Rows summed in float before being added to the double totals (accuracy over long recordings).
    private const int RowBlock = 128;

    /// <summary>
    /// y = (x - mean) * rstd * gamma + beta (then GELU with <paramref name="gelu"/>); gamma/beta per channel (may be
    /// empty); mean/rstd per (item, group). y may be x.
    /// </summary>
    public static void GroupNormForward(ReadOnlySpan<float> x, int batch, int length, int channels, int groups,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, Span<float> y, Span<float> mean, Span<float> rstd,
        bool gelu = false)
    {
        int perGroup = channels / groups;
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pm = mean, pr = rstd)
        {
            var job = new Job(px, null, pg, pb, py, pm, pr, length, channels, perGroup);
            for (int b = 0; b < batch; b++)
            {
                long offset = (long)b * length * channels;
                int stats = b * groups;
                Parallelism.ForParts(groups, Parallelism.PartCount(groups), (_, g0, g1) => job.Forward(offset, stats, g0, g1, eps, gelu));
            }
        }
    }

    /// <summary>Adds the gradients of <see cref="GroupNormForward"/>: dx, dgamma and dbeta (each skipped when empty).</summary>
    public static void GroupNormBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int batch, int length, int channels,
        int groups, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd,
        Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        int perGroup = channels / groups;
        fixed (float* pdy = dy, px = x, pg = gamma, pm = mean, pr = rstd, pdx = dx, pdg = dgamma, pdb = dbeta)
        {
            var job = new Job(px, pdy, pg, null, pdx, pm, pr, length, channels, perGroup);
            var grads = (Gamma: (nint)pdg, Beta: (nint)pdb);
            for (int b = 0; b < batch; b++)
            {
                long offset = (long)b * length * channels;
                int stats = b * groups;
                Parallelism.ForParts(groups, Parallelism.PartCount(groups), (_, g0, g1) =>
                    job.Backward(offset, stats, g0, g1, (float*)grads.Gamma, (float*)grads.Beta));
            }
        }
    }

    /// <summary>One item's pointers and sizes; each method handles groups [g0, g1).</summary>
    private readonly struct Job(float* x, float* dy, float* gamma, float* beta, float* output, float* mean, float* rstd,
        int length, int channels, int perGroup)
    {
        public void Forward(long offset, int stats, int g0, int g1, float eps, bool gelu)
        {
            int c0 = g0 * perGroup, width = (g1 - g0) * perGroup;
            float[] scratch = BufferPool.Rent(3 * width);
            double* sums = stackalloc double[2 * width];
            try
            {
                fixed (float* ps = scratch)
                {
                    float* shift = ps, scale = ps + width, bias = ps + 2 * width;
                    // Sums of (x - s) and (x - s)^2 with s the group's first value: no cancellation for offset data.
                    for (int c = 0; c < width; c++)
                        shift[c] = x[offset + c0 + c / perGroup * perGroup];
                    new Span<double>(sums, 2 * width).Clear();
                    ColumnMoments(x + offset + c0, x + offset + c0, channels, length, width, shift, shift, sums);
                    double n = (double)length * perGroup;
                    for (int g = g0; g < g1; g++)
                    {
                        double s1 = 0, s2 = 0;
                        for (int c = (g - g0) * perGroup; c < (g - g0 + 1) * perGroup; c++)
                            (s1, s2) = (s1 + sums[c], s2 + sums[width + c]);
                        double m = s1 / n, variance = Math.Max(0, s2 / n - m * m);
                        mean[stats + g] = (float)(shift[(g - g0) * perGroup] + m);
                        rstd[stats + g] = (float)(1 / Math.Sqrt(variance + eps));
                    }
                    for (int c = 0; c < width; c++)
                    {
                        int g = g0 + c / perGroup;
                        scale[c] = rstd[stats + g] * (gamma == null ? 1f : gamma[c0 + c]);
                        bias[c] = (beta == null ? 0f : beta[c0 + c]) - mean[stats + g] * scale[c];
                    }
                    ChannelAffine(x + offset + c0, scale, null, null, bias, output + offset + c0, channels, length, width, false,
                        gelu);
                }
            }
            finally
            {
                BufferPool.Return(scratch);
            }
        }

        // dx += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma, means over the group's elements.
        public void Backward(long offset, int stats, int g0, int g1, float* dgamma, float* dbeta)
        {
            int c0 = g0 * perGroup, width = (g1 - g0) * perGroup;
            float[] scratch = BufferPool.Rent(4 * width);
            double* sums = stackalloc double[2 * width];
            try
            {
                fixed (float* ps = scratch)
                {
                    // `constant` is first the zero shift of dy, then the constant term of dx.
                    float* constant = ps, groupMean = ps + width, dyScale = ps + 2 * width, xScale = ps + 3 * width;
                    for (int c = 0; c < width; c++)
                        (constant[c], groupMean[c]) = (0f, mean[stats + g0 + c / perGroup]);
                    // Per channel: sum(dy) and sum(dy * (x - mean)) = sum(dy * xhat) / rstd.
                    new Span<double>(sums, 2 * width).Clear();
                    ColumnMoments(dy + offset + c0, x + offset + c0, channels, length, width, constant, groupMean, sums);
                    double n = (double)length * perGroup;
                    for (int g = g0; g < g1; g++)
                    {
                        float r = rstd[stats + g];
                        double meanG = 0, meanGx = 0;
                        for (int c = (g - g0) * perGroup; c < (g - g0 + 1) * perGroup; c++)
                        {
                            float gam = gamma == null ? 1f : gamma[c0 + c];
                            if (dgamma != null)
                                dgamma[c0 + c] += (float)(sums[width + c] * r);
                            if (dbeta != null)
                                dbeta[c0 + c] += (float)sums[c];
                            meanG += gam * sums[c] / n;
                            meanGx += gam * sums[width + c] * r / n;
                        }
                        // dx = rstd * gamma * dy - rstd^2 * meanGx * x + rstd * (rstd * meanGx * mean - meanG)
                        for (int c = (g - g0) * perGroup; c < (g - g0 + 1) * perGroup; c++)
                        {
                            dyScale[c] = r * (gamma == null ? 1f : gamma[c0 + c]);
                            xScale[c] = (float)(-r * r * meanGx);
                            constant[c] = (float)(r * (r * meanGx * mean[stats + g] - meanG));
                        }
                    }
                    if (output != null)
                        ChannelAffine(dy + offset + c0, dyScale, x + offset + c0, xScale, constant, output + offset + c0, channels,
                            length, width, true, false);
                }
            }
            finally
            {
                BufferPool.Return(scratch);
            }
        }
    }

    /// <summary>
    /// Per channel c of a (rows, width) block with row stride ld: sums[c] = sum over rows of (u - su[c]) and
    /// sums[width + c] = sum of (u - su[c]) * (v - sv[c]); float within blocks of <see cref="RowBlock"/> rows, double across.
    /// </summary>
    internal static void ColumnMoments(float* u, float* v, int ld, int rows, int width, float* su, float* sv, double* sums)
    {
        float[] partial = BufferPool.Rent(2 * width);
        try
        {
            fixed (float* pp = partial)
            {
                for (int r0 = 0; r0 < rows; r0 += RowBlock)
                {
                    new Span<float>(pp, 2 * width).Clear();
                    var kernel = new MomentsKernel(u + (long)r0 * ld, v + (long)r0 * ld, ld, Math.Min(RowBlock, rows - r0),
                        width, su, sv, pp);
                    Simd.Run(ref kernel);
                    for (int c = 0; c < 2 * width; c++)
                        sums[c] += pp[c];
                }
            }
        }
        finally
        {
            BufferPool.Return(partial);
        }
    }

    /// <summary>
    /// out[r, c] (+)= pu[c] * u[r, c] + pv[c] * v[r, c] + bias[c] over a (rows, width) block, row stride ld; v may be
    /// null; with <paramref name="gelu"/> (not accumulating) GELU of that is stored.
    /// </summary>
    internal static void ChannelAffine(float* u, float* pu, float* v, float* pv, float* bias, float* output, int ld,
        int rows, int width, bool accumulate, bool gelu)
    {
        var kernel = new AffineKernel(u, pu, v, pv, bias, output, ld, rows, width, accumulate, gelu);
        Simd.Run(ref kernel);
    }

    private readonly struct MomentsKernel(float* u, float* v, int ld, int rows, int width, float* su, float* sv, float* sums)
        : IVectorKernel
    {
        public void Run<TVec>() where TVec : struct, ISimd<TVec>
        {
            int vectorWidth = width - width % TVec.Count;
            for (int r = 0; r < rows; r++)
            {
                float* ur = u + (long)r * ld, vr = v + (long)r * ld;
                for (int c = 0; c < vectorWidth; c += TVec.Count)
                {
                    TVec du = TVec.Load(ur + c) - TVec.Load(su + c);
                    TVec.Store(TVec.Load(sums + c) + du, sums + c);
                    TVec.Store(TVec.MultiplyAdd(du, TVec.Load(vr + c) - TVec.Load(sv + c), TVec.Load(sums + width + c)), sums + width + c);
                }
                Scalar(ur, vr, vectorWidth);
            }
        }

        public void RunScalar()
        {
            for (int r = 0; r < rows; r++)
                Scalar(u + (long)r * ld, v + (long)r * ld, 0);
        }

        private void Scalar(float* ur, float* vr, int from)
        {
            for (int c = from; c < width; c++)
            {
                float du = ur[c] - su[c];
                sums[c] += du;
                sums[width + c] += du * (vr[c] - sv[c]);
            }
        }
    }

    private readonly struct AffineKernel(float* u, float* pu, float* v, float* pv, float* bias, float* output, int ld,
        int rows, int width, bool accumulate, bool gelu) : IVectorKernel
    {
        public void Run<TVec>() where TVec : struct, ISimd<TVec>
        {
            int vectorWidth = width - width % TVec.Count;
            for (int r = 0; r < rows; r++)
            {
                long row = (long)r * ld;
                for (int c = 0; c < vectorWidth; c += TVec.Count)
                {
                    TVec result = TVec.MultiplyAdd(TVec.Load(u + row + c), TVec.Load(pu + c), TVec.Load(bias + c));
                    if (v != null)
                        result = TVec.MultiplyAdd(TVec.Load(v + row + c), TVec.Load(pv + c), result);
                    if (accumulate)
                        result += TVec.Load(output + row + c);
                    TVec.Store(gelu ? ActivationKernels.Gelu(result) : result, output + row + c);
                }
                Scalar(row, vectorWidth);
            }
        }

        public void RunScalar()
        {
            for (int r = 0; r < rows; r++)
                Scalar((long)r * ld, 0);
        }

        private void Scalar(long row, int from)
        {
            for (int c = from; c < width; c++)
            {
                float result = u[row + c] * pu[c] + bias[c];
                if (v != null)
                    result += v[row + c] * pv[c];
                output[row + c] = accumulate ? output[row + c] + result
                    : gelu ? ActivationKernels.GeluScalar(result) : result;
            }
        }
    }
}
