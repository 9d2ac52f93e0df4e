using System.Buffers;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Connectionist temporal classification (Graves et al., 2006) of one utterance in log space: the forward (alpha) and
/// backward (beta) recursions over the target extended with blanks (blank, l1, blank, l2, ..., blank), in double
/// precision. The twin is the definition itself (a sum over every alignment), in the tests.
/// </summary>
internal static class CtcKernels
{
    /// <summary>
    /// Negative log-likelihood of <paramref name="target"/> (no blanks) given the first <paramref name="frames"/> rows of
    /// <paramref name="logProbs"/>, +infinity when no alignment fits (fewer frames than labels plus the blanks that
    /// repeated labels need). When <paramref name="gradient"/> is not empty, adds d nll / d logProbs, that is minus the
    /// posterior occupancy of each (frame, class), into its first <paramref name="frames"/> rows; for an impossible
    /// target nothing is added.
    /// </summary>
    public static double LossAndGradient(ReadOnlySpan<float> logProbs /* (T, V) */, int frames, int vocab,
        ReadOnlySpan<int> target, int blank, Span<float> gradient /* (T, V) or empty */)
    {
        int labels = target.Length, states = 2 * labels + 1;
        if (frames == 0)
            return labels == 0 ? 0 : double.PositiveInfinity;
        int cells = frames * states;
        double[] alpha = ArrayPool<double>.Shared.Rent(cells), beta = ArrayPool<double>.Shared.Rent(cells);
        int[] extended = ArrayPool<int>.Shared.Rent(states);
        try
        {
            for (int s = 0; s < states; s++)
                extended[s] = s % 2 == 0 ? blank : target[s / 2];
            Forward(logProbs, frames, vocab, extended, states, alpha);
            double last = alpha[(frames - 1) * states + states - 1];
            double logLikelihood = states == 1 ? last : LogAddExp(last, alpha[(frames - 1) * states + states - 2]);
            if (double.IsNegativeInfinity(logLikelihood))
                return double.PositiveInfinity;
            if (!gradient.IsEmpty)
            {
                Backward(logProbs, frames, vocab, extended, states, beta);
                AddOccupancyGradient(logProbs, frames, vocab, extended, states, alpha, beta, logLikelihood, gradient);
            }
            return -logLikelihood;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(alpha);
            ArrayPool<double>.Shared.Return(beta);
            ArrayPool<int>.Shared.Return(extended);
        }
    }

    // alpha[t, s]: log probability of the prefixes of alignments that emit extended[0..s] in frames 0..t, ending at s.
    private static void Forward(ReadOnlySpan<float> logProbs, int frames, int vocab, int[] extended, int states,
        double[] alpha /* (frames, states) */)
    {
        for (int s = 0; s < states; s++)
            alpha[s] = s < 2 ? logProbs[extended[s]] : double.NegativeInfinity;
        for (int t = 1; t < frames; t++)
        {
            int row = t * states, previous = row - states;
            for (int s = 0; s < states; s++)
            {
                double sum = alpha[previous + s];
                if (s >= 1)
                    sum = LogAddExp(sum, alpha[previous + s - 1]);
                if (s >= 2 && extended[s] != extended[s - 2])   // a label may skip the blank before it unless repeated
                    sum = LogAddExp(sum, alpha[previous + s - 2]);
                alpha[row + s] = sum + logProbs[t * vocab + extended[s]];
            }
        }
    }

    // beta[t, s]: log probability of the suffixes that emit extended[s..] in frames t.., starting at s (emission at t
    // included, so alpha + beta counts frame t's emission twice).
    private static void Backward(ReadOnlySpan<float> logProbs, int frames, int vocab, int[] extended, int states,
        double[] beta /* (frames, states) */)
    {
        int lastRow = (frames - 1) * states;
        for (int s = 0; s < states; s++)
            beta[lastRow + s] = s >= states - 2 ? logProbs[(frames - 1) * vocab + extended[s]] : double.NegativeInfinity;
        for (int t = frames - 2; t >= 0; t--)
        {
            int row = t * states, next = row + states;
            for (int s = 0; s < states; s++)
            {
                double sum = beta[next + s];
                if (s + 1 < states)
                    sum = LogAddExp(sum, beta[next + s + 1]);
                if (s + 2 < states && extended[s] != extended[s + 2])
                    sum = LogAddExp(sum, beta[next + s + 2]);
                beta[row + s] = sum + logProbs[t * vocab + extended[s]];
            }
        }
    }

    // d nll / d logProbs[t, c] = -gamma_t(c) = -exp(logsumexp over s with extended[s] = c of (alpha + beta) - logProbs[t, c] - log P).
    private static void AddOccupancyGradient(ReadOnlySpan<float> logProbs, int frames, int vocab, int[] extended, int states,
        double[] alpha, double[] beta, double logLikelihood, Span<float> gradient /* (T, V) */)
    {
        double[] occupancy = ArrayPool<double>.Shared.Rent(vocab);
        try
        {
            for (int t = 0; t < frames; t++)
            {
                Array.Fill(occupancy, double.NegativeInfinity, 0, vocab);
                int row = t * states;
                for (int s = 0; s < states; s++)
                    occupancy[extended[s]] = LogAddExp(occupancy[extended[s]], alpha[row + s] + beta[row + s]);
                for (int s = 0; s < states; s++)
                {
                    int c = extended[s];
                    if (double.IsNegativeInfinity(occupancy[c]))
                        continue;
                    gradient[t * vocab + c] -= (float)Math.Exp(occupancy[c] - logProbs[t * vocab + c] - logLikelihood);
                    occupancy[c] = double.NegativeInfinity;   // a class may occur in several states: add it once
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(occupancy);
        }
    }

    private static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
            return b;
        if (double.IsNegativeInfinity(b))
            return a;
        return a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));
    }
}
