using Wav2Vec2.Nn;

namespace Wav2Vec2.Training;

/// <summary>Gradient-norm clipping, as torch.nn.utils.clip_grad_norm_.</summary>
internal static class GradientClipping
{
    /// <summary>
    /// Scales all gradients by maxNorm / (norm + 1e-6) when their global L2 norm exceeds <paramref name="maxNorm"/>;
    /// returns the norm before clipping. maxNorm &lt;= 0 only measures.
    /// </summary>
    public static double ClipByNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        var withGrad = parameters.Where(p => p.Grad != null).ToList();
        double sumSquares = 0;
        foreach (Parameter p in withGrad)
            sumSquares += System.Numerics.Tensors.TensorPrimitives.SumOfSquares(p.Grad!.Span);
        double norm = Math.Sqrt(sumSquares);
        double coefficient = maxNorm / (norm + 1e-6);
        if (maxNorm > 0 && coefficient < 1)
            foreach (Parameter p in withGrad)
                System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad!.Span, (float)coefficient, p.Grad.Span);
        return norm;
    }

    /// <summary>
    /// fairseq's gradient step before the optimizer: gradients of a loss summed over <paramref name="sampleSize"/>
    /// units (masked frames, utterances) divided by it, then clipped as <see cref="ClipByNorm"/>; returns the norm before
    /// clipping.
    /// </summary>
    public static double NormalizeAndClip(IReadOnlyList<Parameter> parameters, double sampleSize, double maxNorm)
    {
        foreach (Parameter p in parameters)
            if (p.Grad != null)
                System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad.Span, 1f / (float)sampleSize, p.Grad.Span);
        return ClipByNorm(parameters, maxNorm);
    }
}
