using Wav2Vec2.Threading;

namespace Wav2Vec2.Kernels;

/// <summary>Geometry of multi-head attention over (batch, length, heads * headDim) projections.</summary>
internal readonly record struct AttentionShape(int Batch, int Length, int Heads, int HeadDim)
{
    /// <summary>heads * headDim, the row length of q, k, v and the output.</summary>
    public int ModelDim => Heads * HeadDim;

    /// <summary>Elements of the saved probabilities, (batch, heads, length, length).</summary>
    public long ProbabilityCount => (long)Batch * Heads * Length * Length;
}

/// <summary>
/// Scaled dot-product attention per (batch, head): P = softmax(scale * Q K^T with padded keys at -inf), out = drop(P) V.
/// The forward saves P (before dropout); dropout is regenerated from its <see cref="DropoutMask"/> in backward.
/// (batch, head) pairs run in parallel, each with single-threaded GEMMs on strided views of q, k, v.
/// </summary>
internal static partial class AttentionKernels
{
    /// <summary>
    /// Computes the attention output (batch, length, modelDim) and the probabilities (batch, heads, length, length).
    /// <paramref name="keyPadding"/> (batch * length, true = padded key, ignored) may be empty. A query whose keys are all
    /// padded gets zero probabilities and a zero output. With empty <paramref name="probabilities"/> (inference) each
    /// head's probabilities live in a scratch buffer only while that head runs. <paramref name="bias"/> (batch, heads,
    /// length, length), when not empty, is added to the scaled scores before the softmax (WavLM's position bias).
    /// </summary>
    public static unsafe void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<bool> keyPadding, AttentionShape s, float scale, DropoutMask dropout,
        Span<float> probabilities, Span<float> output, ReadOnlySpan<float> bias = default)
    {
        int t = s.Length, d = s.HeadDim, md = s.ModelDim;
        bool keep = probabilities.Length > 0;
        fixed (float* pq = q, pk = k, pv = v, pp = probabilities, po = output, pb = bias)
        fixed (bool* pm = keyPadding)
        {
            nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, ap = (nint)pp, ao = (nint)po, am = (nint)pm, ab = (nint)pb;
            bool masked = keyPadding.Length > 0, biased = bias.Length > 0;
            Parallelism.For(s.Batch * s.Heads, bh =>
            {
                int b = bh / s.Heads, h = bh % s.Heads;
                long headOffset = (long)b * t * md + h * d;
                var qh = new ReadOnlySpan<float>((float*)aq + headOffset, RowSpan(t, md, d));
                var kh = new ReadOnlySpan<float>((float*)ak + headOffset, RowSpan(t, md, d));
                var vh = new ReadOnlySpan<float>((float*)av + headOffset, RowSpan(t, md, d));
                var oh = new Span<float>((float*)ao + headOffset, RowSpan(t, md, d));
                // Training keeps every probability; inference works through blocks of query rows whose scores stay in
                // L2 (a 40 s window has 2000 frames: 16 MB of scores per head, streamed three times, unblocked).
                int rowBlock = keep ? t : InferenceRowBlock(t);
                // The block's probabilities (scratch unless kept), and a second half for the dropped copy.
                float[] scratch = BufferPool.Rent((keep ? 0 : rowBlock * t) + (dropout.IsActive ? rowBlock * t : 0) + 1);
                try
                {
                    for (int r0 = 0; r0 < t; r0 += rowBlock)
                    {
                        int rows = Math.Min(rowBlock, t - r0);
                        long first = (long)bh * t * t + (long)r0 * t;   // index of the block's first probability
                        Span<float> p = keep ? new Span<float>((float*)ap + first, rows * t) : scratch.AsSpan(0, rows * t);
                        Gemm.Sgemm(false, true, rows, t, d, scale, qh[(r0 * md)..], md, kh, md, 0f, p, t);
                        BiasAndMask(p, rows, t, biased ? new ReadOnlySpan<float>((float*)ab + first, rows * t) : default,
                            masked ? new ReadOnlySpan<bool>((bool*)am + (long)b * t, t) : default);
                        ActivationKernels.SoftmaxRows(p, rows, t, p);
                        if (dropout.IsActive)
                        {
                            Span<float> pd = scratch.AsSpan(keep ? 0 : rows * t, rows * t);
                            p.CopyTo(pd);
                            dropout.Apply(pd, first);
                            p = pd;
                        }
                        Gemm.Sgemm(false, false, rows, d, t, 1f, p, t, vh, md, 0f, oh[(r0 * md)..], md);
                    }
                }
                finally
                {
                    BufferPool.Return(scratch);
                }
            });
        }
    }

    // Query rows per inference block: about 512 KB of scores (half of a Zen 4 or Ice Lake core's L2), whole 12-row tiles.
    private static int InferenceRowBlock(int t) => Math.Min(t, Math.Max(12, 131_072 / Math.Max(t, 1) / 12 * 12));

    /// <summary>Adds the gradients of <see cref="Forward"/> into dq, dk, dv and dBias (each skipped when empty).</summary>
    public static unsafe void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> q, ReadOnlySpan<float> k,
        ReadOnlySpan<float> v, ReadOnlySpan<float> probabilities, AttentionShape s, float scale, DropoutMask dropout,
        Span<float> dq, Span<float> dk, Span<float> dv, Span<float> dBias = default)
    {
        int t = s.Length, d = s.HeadDim, md = s.ModelDim;
        fixed (float* pdo = dOutput, pq = q, pk = k, pv = v, pp = probabilities, pdq = dq, pdk = dk, pdv = dv, pdb = dBias)
        {
            nint ado = (nint)pdo, aq = (nint)pq, ak = (nint)pk, av = (nint)pv, ap = (nint)pp,
                adq = (nint)pdq, adk = (nint)pdk, adv = (nint)pdv, adb = (nint)pdb;
            bool wantQ = dq.Length > 0, wantK = dk.Length > 0, wantV = dv.Length > 0, wantBias = dBias.Length > 0;
            Parallelism.For(s.Batch * s.Heads, bh =>
            {
                int b = bh / s.Heads, h = bh % s.Heads;
                long headOffset = (long)b * t * md + h * d;
                int span = RowSpan(t, md, d);
                var doh = new ReadOnlySpan<float>((float*)ado + headOffset, span);
                var p = new ReadOnlySpan<float>((float*)ap + (long)bh * t * t, t * t);
                float[] scratch = BufferPool.Rent(2 * t * t);
                try
                {
                    Span<float> dp = scratch.AsSpan(0, t * t), pd = scratch.AsSpan(t * t, t * t);
                    // dV += drop(P)^T dO
                    if (wantV)
                    {
                        p.CopyTo(pd);
                        dropout.Apply(pd, (long)bh * t * t);
                        Gemm.Sgemm(true, false, t, d, t, 1f, pd, t, doh, md, 1f,
                            new Span<float>((float*)adv + headOffset, span), md);
                    }
                    if (!wantQ && !wantK && !wantBias)
                        return;
                    // dP = drop'(dO V^T), then the softmax backward: dS = P * (dP - rowsum(dP * P))
                    Gemm.Sgemm(false, true, t, t, d, 1f, doh, md, new ReadOnlySpan<float>((float*)av + headOffset, span),
                        md, 0f, dp, t);
                    dropout.Apply(dp, (long)bh * t * t);
                    pd.Clear();
                    ActivationKernels.SoftmaxBackwardRows(p, dp, t, t, pd);
                    if (wantBias)   // the bias is added to the scores: its gradient is theirs
                    {
                        var db = new Span<float>((float*)adb + (long)bh * t * t, t * t);
                        System.Numerics.Tensors.TensorPrimitives.Add(db, pd, db);
                    }
                    if (wantQ)
                        Gemm.Sgemm(false, false, t, d, t, scale, pd, t, new ReadOnlySpan<float>((float*)ak + headOffset, span),
                            md, 1f, new Span<float>((float*)adq + headOffset, span), md);
                    if (wantK)
                        Gemm.Sgemm(true, false, t, d, t, scale, pd, t, new ReadOnlySpan<float>((float*)aq + headOffset, span),
                            md, 1f, new Span<float>((float*)adk + headOffset, span), md);
                }
                finally
                {
                    BufferPool.Return(scratch);
                }
            });
        }
    }

    /// <summary>Naive triple-loop twin of <see cref="Forward"/> without dropout, accumulating in double.</summary>
    public static void ForwardReference(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<bool> keyPadding, AttentionShape s, float scale, Span<float> output, ReadOnlySpan<float> bias = default)
    {
        int t = s.Length, d = s.HeadDim, md = s.ModelDim;
        var weights = new double[t];
        for (int b = 0; b < s.Batch; b++)
            for (int h = 0; h < s.Heads; h++)
                for (int i = 0; i < t; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < t; j++)
                    {
                        bool padded = keyPadding.Length > 0 && keyPadding[b * t + j];
                        double dot = 0;
                        for (int c = 0; c < d; c++)
                            dot += (double)q[(b * t + i) * md + h * d + c] * k[(b * t + j) * md + h * d + c];
                        weights[j] = padded ? double.NegativeInfinity
                            : dot * scale + (bias.Length > 0 ? bias[((b * s.Heads + h) * t + i) * t + j] : 0);
                        max = Math.Max(max, weights[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++)
                        sum += weights[j] = double.IsNegativeInfinity(max) ? 0 : Math.Exp(weights[j] - max);
                    for (int c = 0; c < d; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j < t; j++)
                            acc += weights[j] / (sum == 0 ? 1 : sum) * v[(b * t + j) * md + h * d + c];
                        output[(b * t + i) * md + h * d + c] = (float)acc;
                    }
                }
    }

    // Elements spanned by a (t x d) head view with row stride md.
    private static int RowSpan(int t, int md, int d) => t == 0 ? 0 : (t - 1) * md + d;

    // A block of scaled scores (rows x t): + the block's bias (WavLM), then padded keys at -inf; either may be empty.
    private static void BiasAndMask(Span<float> scores, int rows, int t, ReadOnlySpan<float> bias, ReadOnlySpan<bool> padded)
    {
        if (bias.Length > 0)
            System.Numerics.Tensors.TensorPrimitives.Add(scores, bias, scores);
        if (padded.Length > 0)
            MaskPaddedKeys(scores, rows, t, padded);
    }

    // Sets the padded keys' columns of a (rows, t) block of scores to -inf.
    private static void MaskPaddedKeys(Span<float> scores, int rows, int t, ReadOnlySpan<bool> padded)
    {
        for (int j = 0; j < t; j++)
        {
            if (!padded[j])
                continue;
            for (int i = 0; i < rows; i++)
                scores[i * t + j] = float.NegativeInfinity;
        }
    }
}
