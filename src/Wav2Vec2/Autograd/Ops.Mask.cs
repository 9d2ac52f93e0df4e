using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Replaces the rows of x (..., D) flagged in <paramref name="rows"/> (one flag per row) by
    /// <paramref name="replacement"/> (D), or by zeros when it is null: the learned mask embedding of wav2vec 2.0
    /// and the zeroing of padded frames. Gradients flow to the unreplaced rows of x and, summed, to the replacement.
    /// </summary>
    public static Tensor MaskedReplace(Tensor x, bool[] rows, Tensor? replacement)
    {
        int d = x.Size(-1), count = d == 0 ? 0 : x.Length / d;
        Require(rows.Length == count, "MaskedReplace", $"{rows.Length} row flags for {count} rows of {Shape(x)}");
        Require(replacement == null || replacement.Length == d, "MaskedReplace", $"replacement must have {d} elements");
        Tensor y = Tensor.Uninitialized(x.ShapeArray);
        for (int r = 0; r < count; r++)
        {
            Span<float> target = y.Span.Slice(r * d, d);
            if (!rows[r])
                x.Span.Slice(r * d, d).CopyTo(target);
            else if (replacement != null)
                replacement.Span.CopyTo(target);
            else
                target.Clear();
        }
        return Recorded(Tape.For(x, replacement), y, dy =>
        {
            for (int r = 0; r < count; r++)
            {
                ReadOnlySpan<float> g = dy.Span.Slice(r * d, d);
                Tensor? target = rows[r] ? replacement : x;
                if (target?.RequiresGrad != true)
                    continue;
                Span<float> grad = rows[r] ? target.GradSpan() : target.GradSpan().Slice(r * d, d);
                TensorPrimitives.Add(grad, g, grad);
            }
        });
    }
}
