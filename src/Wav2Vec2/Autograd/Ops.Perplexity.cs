using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// The quantizer's soft perplexity for logits (N, G, V): p_g = mean over the N rows of softmax over V, then
    /// sum over groups of exp(-sum_v p log(p + 1e-7)) (fairseq's prob_perplexity; the diversity loss is
    /// (G V - this) / (G V)). Returns a scalar.
    /// </summary>
    public static Tensor ProbabilityPerplexity(Tensor logits)
    {
        Require(logits.Rank == 3, "ProbabilityPerplexity", $"logits must be (N, G, V), got {Shape(logits)}");
        int n = logits.Size(0), groups = logits.Size(1), v = logits.Size(2);
        Tensor soft = Tensor.Uninitialized(logits.ShapeArray);
        ActivationKernels.SoftmaxRows(logits.Span, n * groups, v, soft.Span);
        var mean = new double[groups * v];
        for (int r = 0; r < n; r++)
            for (int i = 0; i < groups * v; i++)
                mean[i] += soft.Span[r * groups * v + i];
        var perplexity = new double[groups];
        double total = 0;
        for (int g = 0; g < groups; g++)
        {
            double entropy = 0;
            for (int j = 0; j < v; j++)
            {
                double p = mean[g * v + j] /= n;
                entropy -= p * Math.Log(p + 1e-7);
            }
            total += perplexity[g] = Math.Exp(entropy);
        }
        Tensor result = Tensor.Scalar((float)total);
        return Recorded(Tape.For(logits), result, dy =>
        {
            // d/dp = -PP_g (log(p + eps) + p / (p + eps)); p is a mean of softmaxes, so each row gets (1/N) of it
            // through the softmax backward.
            float g0 = dy.Span[0];
            var dMean = new float[groups * v];
            for (int g = 0; g < groups; g++)
                for (int j = 0; j < v; j++)
                {
                    double p = mean[g * v + j];
                    dMean[g * v + j] = (float)(-g0 * perplexity[g] * (Math.Log(p + 1e-7) + p / (p + 1e-7)) / n);
                }
            Tensor dSoft = Tensor.Uninitialized(logits.ShapeArray);
            for (int r = 0; r < n; r++)
                dMean.AsSpan().CopyTo(dSoft.Span.Slice(r * groups * v, groups * v));
            ActivationKernels.SoftmaxBackwardRows(soft.Span, dSoft.Span, n * groups, v, logits.GradSpan());
        });
    }
}
