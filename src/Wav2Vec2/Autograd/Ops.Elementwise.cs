using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>a + b with NumPy broadcasting (shapes aligned from the right, size-1 dimensions stretch).</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary(a, b, BinaryKind.Add);

    /// <summary>a - b with NumPy broadcasting.</summary>
    public static Tensor Subtract(Tensor a, Tensor b) => Binary(a, b, BinaryKind.Subtract);

    /// <summary>a * b (element-wise) with NumPy broadcasting.</summary>
    public static Tensor Multiply(Tensor a, Tensor b) => Binary(a, b, BinaryKind.Multiply);

    /// <summary>x * factor.</summary>
    public static Tensor Scale(Tensor x, float factor)
    {
        Tensor y = Tensor.Uninitialized(x.ShapeArray);
        TensorPrimitives.Multiply(x.Span, factor, y.Span);
        return Recorded(Tape.For(x), y, dy => TensorPrimitives.MultiplyAdd(dy.Span, factor, x.GradSpan(), x.GradSpan()));
    }

    /// <summary>
    /// Identity in the forward pass; multiplies the gradient by <paramref name="factor"/> in the backward pass
    /// (fairseq's GradMultiply, used for feature_grad_mult).
    /// </summary>
    public static Tensor GradScale(Tensor x, float factor)
    {
        using var _ = Diagnostics.StageProfiler.Enter(CopyStage);
        Tensor y = Tensor.Uninitialized(x.ShapeArray);
        x.Span.CopyTo(y.Span);
        return Recorded(Tape.For(x), y, dy => TensorPrimitives.MultiplyAdd(dy.Span, factor, x.GradSpan(), x.GradSpan()));
    }

    private enum BinaryKind { Add, Subtract, Multiply }

    private static Tensor Binary(Tensor a, Tensor b, BinaryKind kind)
    {
        if (a.SameShape(b))
            return SameShapeBinary(a, b, kind);
        var plan = BroadcastPlan.Create(a, b, kind.ToString());
        Tensor y = Tensor.Uninitialized(plan.OutputShape);
        Span<float> ys = y.Span;
        ReadOnlySpan<float> av = a.Span, bv = b.Span;
        for (int i = 0; i < ys.Length; i++)
        {
            (int ia, int ib) = plan.SourceIndices(i);
            ys[i] = kind switch
            {
                BinaryKind.Add => av[ia] + bv[ib],
                BinaryKind.Subtract => av[ia] - bv[ib],
                _ => av[ia] * bv[ib],
            };
        }
        return Recorded(Tape.For(a, b), y, dy =>
        {
            ReadOnlySpan<float> g = dy.Span;
            Span<float> da = a.RequiresGrad ? a.GradSpan() : [], db = b.RequiresGrad ? b.GradSpan() : [];
            for (int i = 0; i < g.Length; i++)
            {
                (int ia, int ib) = plan.SourceIndices(i);
                if (da.Length > 0)
                    da[ia] += kind == BinaryKind.Multiply ? g[i] * b.Span[ib] : g[i];
                if (db.Length > 0)
                    db[ib] += kind switch { BinaryKind.Multiply => g[i] * a.Span[ia], BinaryKind.Subtract => -g[i], _ => g[i] };
            }
        });
    }

    private static Tensor SameShapeBinary(Tensor a, Tensor b, BinaryKind kind)
    {
        Tensor y = Tensor.Uninitialized(a.ShapeArray);
        switch (kind)
        {
            case BinaryKind.Add: TensorPrimitives.Add(a.Span, b.Span, y.Span); break;
            case BinaryKind.Subtract: TensorPrimitives.Subtract(a.Span, b.Span, y.Span); break;
            default: TensorPrimitives.Multiply(a.Span, b.Span, y.Span); break;
        }
        return Recorded(Tape.For(a, b), y, dy =>
        {
            if (a.RequiresGrad)
            {
                Span<float> da = a.GradSpan();
                if (kind == BinaryKind.Multiply)
                    TensorPrimitives.FusedMultiplyAdd(dy.Span, b.Span, da, da);
                else
                    TensorPrimitives.Add(da, dy.Span, da);
            }
            if (b.RequiresGrad)
            {
                Span<float> db = b.GradSpan();
                switch (kind)
                {
                    case BinaryKind.Multiply: TensorPrimitives.FusedMultiplyAdd(dy.Span, a.Span, db, db); break;
                    case BinaryKind.Subtract: TensorPrimitives.Subtract(db, dy.Span, db); break;
                    default: TensorPrimitives.Add(db, dy.Span, db); break;
                }
            }
        });
    }

    /// <summary>Index arithmetic of a NumPy-style broadcast of two shapes.</summary>
    private sealed class BroadcastPlan
    {
        private readonly int[] _outShape, _aStrides, _bStrides;

        private BroadcastPlan(int[] outShape, int[] aStrides, int[] bStrides)
        {
            _outShape = outShape;
            _aStrides = aStrides;
            _bStrides = bStrides;
        }

        public int[] OutputShape => _outShape;

        public static BroadcastPlan Create(Tensor a, Tensor b, string operation)
        {
            int rank = Math.Max(a.Rank, b.Rank);
            var outShape = new int[rank];
            var aStrides = new int[rank];
            var bStrides = new int[rank];
            int aStride = 1, bStride = 1;
            for (int i = rank - 1; i >= 0; i--)
            {
                int ad = AlignedDim(a, i, rank), bd = AlignedDim(b, i, rank);
                Require(ad == bd || ad == 1 || bd == 1, operation, $"shapes {Shape(a)} and {Shape(b)} do not broadcast");
                outShape[i] = Math.Max(ad, bd);
                aStrides[i] = ad == 1 ? 0 : aStride;
                bStrides[i] = bd == 1 ? 0 : bStride;
                aStride *= ad;
                bStride *= bd;
            }
            return new BroadcastPlan(outShape, aStrides, bStrides);
        }

        public (int A, int B) SourceIndices(int flat)
        {
            int ia = 0, ib = 0;
            for (int d = _outShape.Length - 1; d >= 0; d--)
            {
                int size = _outShape[d];
                int index = flat % size;
                flat /= size;
                ia += index * _aStrides[d];
                ib += index * _bStrides[d];
            }
            return (ia, ib);
        }

        private static int AlignedDim(Tensor t, int i, int rank)
        {
            int j = i - (rank - t.Rank);
            return j < 0 ? 1 : t.Shape[j];
        }
    }
}
