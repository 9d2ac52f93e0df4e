using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Exact GELU, x * Phi(x) (PyTorch's default, approximate='none'). With <paramref name="inPlace"/> the result
    /// overwrites x (inference only: nothing may be recording a gradient for x).
    /// </summary>
    public static Tensor Gelu(Tensor x, bool inPlace = false)
    {
        using var _ = Diagnostics.StageProfiler.Enter("gelu");
        Tensor y = inPlace ? InPlaceTarget(x, "Gelu") : Tensor.Uninitialized(x.ShapeArray);
        ActivationKernels.GeluForward(x.Span, y.Span);
        return Recorded(Tape.For(x), y, dy => ActivationKernels.GeluBackward(x.Span, dy.Span, x.GradSpan()));
    }

    /// <summary>ReLU, max(x, 0); the gradient passes where x &gt; 0.</summary>
    public static Tensor Relu(Tensor x)
    {
        Tensor y = Tensor.Uninitialized(x.ShapeArray);
        System.Numerics.Tensors.TensorPrimitives.Max(x.Span, 0f, y.Span);
        return Recorded(Tape.For(x), y, dy =>
        {
            ReadOnlySpan<float> input = x.Span, upstream = dy.Span;
            Span<float> grad = x.GradSpan();
            for (int i = 0; i < grad.Length; i++)
                if (input[i] > 0)
                    grad[i] += upstream[i];
        });
    }

    /// <summary>Softmax over the last dimension.</summary>
    public static Tensor Softmax(Tensor x)
    {
        (int rows, int cols) = Rows(x);
        Tensor y = Tensor.Uninitialized(x.ShapeArray);
        ActivationKernels.SoftmaxRows(x.Span, rows, cols, y.Span);
        return Recorded(Tape.For(x), y, dy => ActivationKernels.SoftmaxBackwardRows(y.Span, dy.Span, rows, cols, x.GradSpan()));
    }

    /// <summary>Log-softmax over the last dimension.</summary>
    public static Tensor LogSoftmax(Tensor x)
    {
        (int rows, int cols) = Rows(x);
        Tensor y = Tensor.Uninitialized(x.ShapeArray);
        ActivationKernels.LogSoftmaxRows(x.Span, rows, cols, y.Span);
        return Recorded(Tape.For(x), y, dy => ActivationKernels.LogSoftmaxBackwardRows(y.Span, dy.Span, rows, cols, x.GradSpan()));
    }

    /// <summary>
    /// Inverted dropout: zeroes each element with probability <paramref name="probability"/> and scales the rest by
    /// 1 / (1 - p). The mask comes from <paramref name="random"/> (counter-based, so reproducible on any thread count)
    /// and is regenerated, not stored, for the backward pass. p = 0 returns the input unchanged.
    /// </summary>
    public static Tensor Dropout(Tensor x, float probability, RandomSource random)
    {
        Require(probability is >= 0f and <= 1f, "Dropout", $"probability must be in [0, 1], got {probability}");
        if (probability == 0f)
            return x;
        DropoutMask mask = random.NextDropoutMask(probability, x.Length);
        Tensor y = Tensor.Uninitialized(x.ShapeArray);
        x.Span.CopyTo(y.Span);
        mask.Apply(y.Span, 0);
        return Recorded(Tape.For(x), y, dy => mask.AddMasked(dy.Span, x.GradSpan(), 0));
    }

    private static (int Rows, int Cols) Rows(Tensor x)
    {
        Require(x.Rank >= 1, "Softmax", "input must have at least one dimension");
        int cols = x.Size(-1);
        return (cols == 0 ? 0 : x.Length / cols, cols);
    }
}
