using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Hard Gumbel-softmax over the last dimension of logits (N, V) with temperature <paramref name="tau"/>:
    /// the forward value is the one-hot of argmax(logits + g), g ~ Gumbel(0, 1) from <paramref name="random"/>;
    /// the gradient is that of softmax((logits + g) / tau) (straight-through, as torch's gumbel_softmax(hard=True)).
    /// Returns the one-hot tensor and the chosen index of every row.
    /// </summary>
    public static (Tensor OneHot, int[] Indices) GumbelSoftmaxHard(Tensor logits, float tau, RandomSource random)
    {
        Tensor noise = Tensor.Uninitialized(logits.ShapeArray);
        ulong start = random.Reserve(noise.Length);
        Span<float> g = noise.Span;
        for (int i = 0; i < g.Length; i++)
        {
            // Uniform in (0, 1): shift by half a step so neither log sees 0.
            double u = random.UniformAt(start + (ulong)i) + 0.5 / (1 << 24);
            g[i] = (float)-Math.Log(-Math.Log(u));
        }
        return GumbelSoftmaxHard(logits, tau, noise);
    }

    /// <summary>The hard Gumbel-softmax with given noise (for tests that replay PyTorch's draws).</summary>
    internal static (Tensor OneHot, int[] Indices) GumbelSoftmaxHard(Tensor logits, float tau, Tensor noise)
    {
        Require(logits.Rank >= 1 && logits.SameShape(noise), "GumbelSoftmaxHard",
            $"noise {Shape(noise)} must match logits {Shape(logits)}");
        Require(tau > 0, "GumbelSoftmaxHard", $"temperature must be positive, got {tau}");
        (int rows, int cols) = Rows(logits);
        Tensor soft = Tensor.Uninitialized(logits.ShapeArray);
        TensorPrimitives.Add(logits.Span, noise.Span, soft.Span);
        TensorPrimitives.Multiply(soft.Span, 1f / tau, soft.Span);
        ActivationKernels.SoftmaxRows(soft.Span, rows, cols, soft.Span);
        var indices = new int[rows];
        Tensor hard = new(logits.ShapeArray);
        for (int r = 0; r < rows; r++)
        {
            indices[r] = TensorPrimitives.IndexOfMax(soft.Span.Slice(r * cols, cols));
            hard.Span[r * cols + indices[r]] = 1f;
        }
        Recorded(Tape.For(logits), hard, dy =>
        {
            // Straight-through: the one-hot's gradient goes to the soft sample, then through softmax(./tau).
            Tensor dSoftInput = Tensor.Uninitialized(logits.ShapeArray);
            dSoftInput.Span.Clear();
            ActivationKernels.SoftmaxBackwardRows(soft.Span, dy.Span, rows, cols, dSoftInput.Span);
            TensorPrimitives.MultiplyAdd(dSoftInput.Span, 1f / tau, logits.GradSpan(), logits.GradSpan());
        });
        return (hard, indices);
    }
}
