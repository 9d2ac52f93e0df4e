using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Cross-entropy of logits (N, C) against class indices (N); rows whose target is <paramref name="ignoreIndex"/>
    /// contribute nothing (and are not counted by <see cref="Reduction.Mean"/>, as in PyTorch). Returns a scalar.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, int[] targets, int ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        Require(logits.Rank == 2, "CrossEntropy", $"logits must be (N, C), got {Shape(logits)}");
        int n = logits.Size(0), c = logits.Size(1);
        Require(targets.Length == n, "CrossEntropy", $"{targets.Length} targets for {n} rows");
        Tensor logProbs = Tensor.Uninitialized(n, c);
        ActivationKernels.LogSoftmaxRows(logits.Span, n, c, logProbs.Span);
        double total = 0;
        int counted = 0;
        for (int i = 0; i < n; i++)
        {
            if (targets[i] == ignoreIndex)
                continue;
            Require((uint)targets[i] < (uint)c, "CrossEntropy", $"target {targets[i]} of row {i} is not a class in [0, {c})");
            total -= logProbs.Span[i * c + targets[i]];
            counted++;
        }
        float factor = reduction == Reduction.Mean ? 1f / counted : 1f;
        Tensor loss = Tensor.Scalar((float)(total * factor));
        return Recorded(Tape.For(logits), loss, dLoss =>
        {
            // d/dlogits = (softmax - onehot(target)) per counted row.
            float g = dLoss.Span[0] * factor;
            Span<float> dx = logits.GradSpan();
            for (int i = 0; i < n; i++)
            {
                if (targets[i] == ignoreIndex)
                    continue;
                for (int j = 0; j < c; j++)
                    dx[i * c + j] += g * MathF.Exp(logProbs.Span[i * c + j]);
                dx[i * c + targets[i]] -= g;
            }
        });
    }

    /// <summary>
    /// Cosine similarity along the last dimension of two tensors of the same shape:
    /// a.b / (max(|a|, eps) * max(|b|, eps)). The result drops the last dimension.
    /// </summary>
    public static Tensor CosineSimilarity(Tensor a, Tensor b, float eps = 1e-8f)
    {
        Require(a.SameShape(b) && a.Rank >= 1, "CosineSimilarity", $"shapes must match, got {Shape(a)} and {Shape(b)}");
        int d = a.Size(-1), rows = d == 0 ? 0 : a.Length / d;
        var normA = new float[rows];
        var normB = new float[rows];
        Tensor y = Tensor.Uninitialized(a.ShapeArray[..^1]);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> ar = a.Span.Slice(r * d, d), br = b.Span.Slice(r * d, d);
            normA[r] = TensorPrimitives.Norm(ar);
            normB[r] = TensorPrimitives.Norm(br);
            y.Span[r] = TensorPrimitives.Dot(ar, br) / (MathF.Max(normA[r], eps) * MathF.Max(normB[r], eps));
        }
        return Recorded(Tape.For(a, b), y, dy =>
        {
            for (int r = 0; r < rows; r++)
            {
                float na = MathF.Max(normA[r], eps), nb = MathF.Max(normB[r], eps), g = dy.Span[r], value = y.Span[r];
                // d/da = b / (na nb) - y a / na^2 (the second term only while the norm is not clamped)
                if (a.RequiresGrad)
                    AddCosineGradient(a.GradSpan().Slice(r * d, d), b.Span.Slice(r * d, d), a.Span.Slice(r * d, d),
                        g / (na * nb), normA[r] > eps ? -g * value / (na * na) : 0f);
                if (b.RequiresGrad)
                    AddCosineGradient(b.GradSpan().Slice(r * d, d), a.Span.Slice(r * d, d), b.Span.Slice(r * d, d),
                        g / (na * nb), normB[r] > eps ? -g * value / (nb * nb) : 0f);
            }
        });
    }

    private static void AddCosineGradient(Span<float> grad, ReadOnlySpan<float> other, ReadOnlySpan<float> self,
        float otherFactor, float selfFactor)
    {
        TensorPrimitives.MultiplyAdd(other, otherFactor, grad, grad);
        TensorPrimitives.MultiplyAdd(self, selfFactor, grad, grad);
    }
}
