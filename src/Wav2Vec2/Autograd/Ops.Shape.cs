using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Diagnostics;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    // Profile row of the ops that only move data.
    private const string CopyStage = "copies/transposes";

    /// <summary>A view of x with a new shape (one dimension may be -1); no copy.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        Tensor y = x.View(shape);
        return Recorded(Tape.For(x), y, dy => TensorPrimitives.Add(x.GradSpan(), dy.Span, x.GradSpan()));
    }

    /// <summary>Swaps two dimensions (a copy into the new layout).</summary>
    public static Tensor Transpose(Tensor x, int dim0, int dim1)
    {
        using var copyStage = StageProfiler.Enter(CopyStage);
        int d0 = x.NormalizeDim(dim0), d1 = x.NormalizeDim(dim1);
        if (d0 == d1)
            return Reshape(x, x.ShapeArray);
        if (d0 > d1)
            (d0, d1) = (d1, d0);
        // x viewed as (outer, A, middle, B, inner) becomes (outer, B, middle, A, inner).
        int[] shape = x.ShapeArray;
        int outer = Product(shape, 0, d0), a = shape[d0], middle = Product(shape, d0 + 1, d1), b = shape[d1];
        int inner = Product(shape, d1 + 1, shape.Length);
        (shape[d0], shape[d1]) = (shape[d1], shape[d0]);
        Tensor y = Tensor.Uninitialized(shape);
        SwapBlocks(x.Span, outer, a, middle, b, inner, y.Span, accumulate: false);
        return Recorded(Tape.For(x), y, dy => SwapBlocks(dy.Span, outer, b, middle, a, inner, x.GradSpan(), accumulate: true));
    }

    /// <summary>Elements [start, start + length) of dimension <paramref name="dim"/> (a copy).</summary>
    public static Tensor Slice(Tensor x, int dim, int start, int length)
    {
        using var copyStage = StageProfiler.Enter(CopyStage);
        (int outer, int size, int inner) = x.SplitAt(dim);
        Require(start >= 0 && length >= 0 && start + length <= size, "Slice",
            $"[{start}, {start + length}) is out of range for dimension {dim} of {Shape(x)}");
        int[] shape = x.ShapeArray;
        shape[x.NormalizeDim(dim)] = length;
        Tensor y = Tensor.Uninitialized(shape);
        for (int o = 0; o < outer; o++)
            x.Span.Slice((o * size + start) * inner, length * inner).CopyTo(y.Span.Slice(o * length * inner, length * inner));
        return Recorded(Tape.For(x), y, dy =>
        {
            Span<float> dx = x.GradSpan();
            for (int o = 0; o < outer; o++)
            {
                Span<float> target = dx.Slice((o * size + start) * inner, length * inner);
                TensorPrimitives.Add(target, dy.Span.Slice(o * length * inner, length * inner), target);
            }
        });
    }

    /// <summary>
    /// Picks entries <paramref name="indices"/> along dimension <paramref name="dim"/> (repeats allowed), like
    /// torch.index_select; the backward scatter-adds. Use it on a flattened view to gather per-item rows.
    /// </summary>
    public static Tensor IndexSelect(Tensor x, int dim, int[] indices)
    {
        using var copyStage = StageProfiler.Enter(CopyStage);
        (int outer, int size, int inner) = x.SplitAt(dim);
        foreach (int index in indices)
            Require((uint)index < (uint)size, "IndexSelect", $"index {index} is out of range for dimension {dim} of {Shape(x)}");
        int[] shape = x.ShapeArray;
        shape[x.NormalizeDim(dim)] = indices.Length;
        Tensor y = Tensor.Uninitialized(shape);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < indices.Length; i++)
                x.Span.Slice((o * size + indices[i]) * inner, inner).CopyTo(y.Span.Slice((o * indices.Length + i) * inner, inner));
        return Recorded(Tape.For(x), y, dy =>
        {
            Span<float> dx = x.GradSpan();
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < indices.Length; i++)
                {
                    Span<float> target = dx.Slice((o * size + indices[i]) * inner, inner);
                    TensorPrimitives.Add(target, dy.Span.Slice((o * indices.Length + i) * inner, inner), target);
                }
        });
    }

    /// <summary>Joins tensors along <paramref name="dim"/>; all other dimensions must agree.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts, int dim)
    {
        using var copyStage = StageProfiler.Enter(CopyStage);
        Require(parts.Count > 0, "Concat", "needs at least one tensor");
        Tensor first = parts[0];
        int d = first.NormalizeDim(dim);
        int total = 0;
        foreach (Tensor part in parts)
        {
            bool compatible = part.Rank == first.Rank;
            for (int i = 0; compatible && i < first.Rank; i++)
                compatible = i == d || part.Shape[i] == first.Shape[i];
            Require(compatible, "Concat", $"{Shape(part)} does not match {Shape(first)} outside dimension {dim}");
            total += part.Shape[d];
        }
        int[] shape = first.ShapeArray;
        shape[d] = total;
        Tensor y = Tensor.Uninitialized(shape);
        (int outer, _, int inner) = y.SplitAt(d);
        ForEachConcatBlock(parts, d, outer, inner, total, (part, source, target, length) =>
            part.Span.Slice(source, length).CopyTo(y.Span.Slice(target, length)));
        var partsCopy = parts.ToArray();
        return Recorded(Tape.For(partsCopy), y, dy => ForEachConcatBlock(partsCopy, d, outer, inner, total,
            (part, source, target, length) =>
            {
                if (!part.RequiresGrad)
                    return;
                Span<float> dx = part.GradSpan().Slice(source, length);
                TensorPrimitives.Add(dx, dy.Span.Slice(target, length), dx);
            }));
    }

    // For each part and outer index: (part, offset in part, offset in the concatenation, run length).
    private static void ForEachConcatBlock(IReadOnlyList<Tensor> parts, int d, int outer, int inner, int total,
        Action<Tensor, int, int, int> visit)
    {
        for (int o = 0; o < outer; o++)
        {
            int at = 0;
            foreach (Tensor part in parts)
            {
                int size = part.Shape[d];
                visit(part, o * size * inner, (o * total + at) * inner, size * inner);
                at += size;
            }
        }
    }

    private static void SwapBlocks(ReadOnlySpan<float> source, int outer, int a, int middle, int b, int inner,
        Span<float> destination, bool accumulate)
    {
        if (middle == 1 && inner == 1)
        {
            LayoutKernels.Transpose(source, outer, a, b, destination, accumulate);
            return;
        }
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < a; i++)
                for (int m = 0; m < middle; m++)
                    for (int j = 0; j < b; j++)
                    {
                        ReadOnlySpan<float> from = source.Slice((((o * a + i) * middle + m) * b + j) * inner, inner);
                        Span<float> to = destination.Slice((((o * b + j) * middle + m) * a + i) * inner, inner);
                        if (accumulate)
                            TensorPrimitives.Add(to, from, to);
                        else
                            from.CopyTo(to);
                    }
    }

    private static int Product(int[] shape, int start, int end)
    {
        int product = 1;
        for (int i = start; i < end; i++)
            product *= shape[i];
        return product;
    }
}
