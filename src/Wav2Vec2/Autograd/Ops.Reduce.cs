using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>Sum of all elements, a scalar (accumulated in double).</summary>
    public static Tensor Sum(Tensor x) => ReduceAll(x, 1f);

    /// <summary>Mean of all elements, a scalar.</summary>
    public static Tensor Mean(Tensor x) => ReduceAll(x, x.Length == 0 ? float.NaN : 1f / x.Length);

    /// <summary>Sum over dimension <paramref name="dim"/>; kept as size 1 when <paramref name="keepDim"/>.</summary>
    public static Tensor Sum(Tensor x, int dim, bool keepDim = false) => ReduceDim(x, dim, keepDim, mean: false);

    /// <summary>Mean over dimension <paramref name="dim"/>; kept as size 1 when <paramref name="keepDim"/>.</summary>
    public static Tensor Mean(Tensor x, int dim, bool keepDim = false) => ReduceDim(x, dim, keepDim, mean: true);

    private static Tensor ReduceAll(Tensor x, float factor)
    {
        double sum = 0;
        foreach (float value in x.Span)
            sum += value;
        Tensor y = Tensor.Scalar((float)(sum * factor));
        return Recorded(Tape.For(x), y, dy =>
        {
            Span<float> dx = x.GradSpan();
            TensorPrimitives.Add(dx, dy.Span[0] * factor, dx);
        });
    }

    private static Tensor ReduceDim(Tensor x, int dim, bool keepDim, bool mean)
    {
        (int outer, int size, int inner) = x.SplitAt(dim);
        int d = x.NormalizeDim(dim);
        List<int> shape = [.. x.ShapeArray];
        if (keepDim)
            shape[d] = 1;
        else
            shape.RemoveAt(d);
        float factor = mean ? 1f / size : 1f;
        Tensor y = new([.. shape]);
        for (int o = 0; o < outer; o++)
        {
            Span<float> target = y.Span.Slice(o * inner, inner);
            for (int j = 0; j < size; j++)
                TensorPrimitives.Add(target, x.Span.Slice((o * size + j) * inner, inner), target);
            TensorPrimitives.Multiply(target, factor, target);
        }
        return Recorded(Tape.For(x), y, dy =>
        {
            Span<float> dx = x.GradSpan();
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < size; j++)
                {
                    Span<float> target = dx.Slice((o * size + j) * inner, inner);
                    TensorPrimitives.MultiplyAdd(dy.Span.Slice(o * inner, inner), factor, target, target);
                }
        });
    }
}
