using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// y = x W^T + b for x (..., in), W (out, in), b (out) or null; y is (..., out). With <paramref name="gelu"/>,
    /// y = GELU(x W^T + b), applied as the product is stored when nothing is recorded (a Linear and a Gelu op otherwise).
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null, bool gelu = false)
    {
        if (gelu && Tape.For(x, weight, bias) != null)
            return Gelu(Linear(x, weight, bias));
        Require(weight.Rank == 2, "Linear", $"weight must be (out, in), got {Shape(weight)}");
        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        Require(x.Rank >= 1 && x.Size(-1) == inFeatures, "Linear",
            $"input {Shape(x)} does not end in {inFeatures} features (weight {Shape(weight)})");
        Require(bias == null || (bias.Rank == 1 && bias.Length == outFeatures), "Linear",
            $"bias {(bias == null ? "" : Shape(bias))} must be ({outFeatures})");
        int rows = x.Length / Math.Max(1, inFeatures);
        int[] shape = x.ShapeArray;
        shape[^1] = outFeatures;
        Tensor y = Tensor.Uninitialized(shape);
        Gemm.Sgemm(false, true, rows, outFeatures, inFeatures, 1f, x.Span, inFeatures, weight.Span, inFeatures, 0f,
            y.Span, outFeatures, bias == null ? [] : bias.Span, gelu: gelu);

        return Recorded(Tape.For(x, weight, bias), y, dy =>
        {
            if (x.RequiresGrad)
                Gemm.Sgemm(false, false, rows, inFeatures, outFeatures, 1f, dy.Span, outFeatures, weight.Span, inFeatures,
                    1f, x.GradSpan(), inFeatures);
            if (weight.RequiresGrad)
                Gemm.Sgemm(true, false, outFeatures, inFeatures, rows, 1f, dy.Span, outFeatures, x.Span, inFeatures, 1f,
                    weight.GradSpan(), inFeatures);
            if (bias?.RequiresGrad == true)
            {
                Span<float> db = bias.GradSpan();
                for (int r = 0; r < rows; r++)
                    TensorPrimitives.Add(db, dy.Span.Slice(r * outFeatures, outFeatures), db);
            }
        });
    }

    /// <summary>
    /// Batched matrix product C = op(A) op(B) for A (M, K) or (batch, M, K) (op = transpose when
    /// <paramref name="transposeA"/>: stored (K, M)), likewise B, with equal batch sizes.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        Require(a.Rank is 2 or 3 && a.Rank == b.Rank, "MatMul", $"operands must both be 2-D or 3-D, got {Shape(a)} and {Shape(b)}");
        int batch = a.Rank == 3 ? a.Size(0) : 1;
        Require(a.Rank == 2 || b.Size(0) == batch, "MatMul", $"batch sizes differ: {Shape(a)} and {Shape(b)}");
        int m = transposeA ? a.Size(-1) : a.Size(-2), k = transposeA ? a.Size(-2) : a.Size(-1);
        int kb = transposeB ? b.Size(-1) : b.Size(-2), n = transposeB ? b.Size(-2) : b.Size(-1);
        Require(k == kb, "MatMul", $"inner dimensions differ: {Shape(a)}{(transposeA ? "^T" : "")} x {Shape(b)}{(transposeB ? "^T" : "")}");
        int lda = a.Size(-1), ldb = b.Size(-1);
        Tensor c = Tensor.Uninitialized(a.Rank == 3 ? [batch, m, n] : [m, n]);
        for (int i = 0; i < batch; i++)
            Gemm.Sgemm(transposeA, transposeB, m, n, k, 1f, a.Span.Slice(i * m * k, m * k), lda,
                b.Span.Slice(i * k * n, k * n), ldb, 0f, c.Span.Slice(i * m * n, m * n), n);

        return Recorded(Tape.For(a, b), c, dc =>
        {
            for (int i = 0; i < batch; i++)
            {
                ReadOnlySpan<float> dci = dc.Span.Slice(i * m * n, m * n);
                ReadOnlySpan<float> ai = a.Span.Slice(i * m * k, m * k), bi = b.Span.Slice(i * k * n, k * n);
                if (a.RequiresGrad)
                {
                    Span<float> da = a.GradSpan().Slice(i * m * k, m * k);
                    if (!transposeA) // dA = dC op(B)^T
                        Gemm.Sgemm(false, !transposeB, m, k, n, 1f, dci, n, bi, ldb, 1f, da, k);
                    else             // dA = op(B) dC^T
                        Gemm.Sgemm(transposeB, true, k, m, n, 1f, bi, ldb, dci, n, 1f, da, m);
                }
                if (b.RequiresGrad)
                {
                    Span<float> db = b.GradSpan().Slice(i * k * n, k * n);
                    if (!transposeB) // dB = op(A)^T dC
                        Gemm.Sgemm(!transposeA, false, k, n, m, 1f, ai, lda, dci, n, 1f, db, n);
                    else             // dB = dC^T op(A)
                        Gemm.Sgemm(true, transposeA, n, k, m, 1f, dci, n, ai, lda, 1f, db, k);
                }
            }
        });
    }

    /// <summary>
    /// 1-D convolution of x (batch, inChannels, length) with weight (outChannels, inChannels / groups, kernel) and an
    /// optional bias (outChannels), as PyTorch's conv1d (zero padding on both sides).
    /// </summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int groups = 1)
    {
        Require(x.Rank == 3, "Conv1d", $"input must be (batch, channels, length), got {Shape(x)}");
        Require(weight.Rank == 3, "Conv1d", $"weight must be (out, in / groups, kernel), got {Shape(weight)}");
        Require(stride >= 1 && padding >= 0 && groups >= 1, "Conv1d", $"invalid stride {stride}, padding {padding} or groups {groups}");
        var s = new Conv1dShape(x.Size(0), x.Size(1), x.Size(2), weight.Size(0), weight.Size(2), stride, padding, groups);
        Require(s.InChannels % groups == 0 && s.OutChannels % groups == 0, "Conv1d",
            $"channels {s.InChannels} -> {s.OutChannels} are not divisible by groups {groups}");
        Require(weight.Size(1) == s.GroupInChannels, "Conv1d",
            $"weight {Shape(weight)} expects {weight.Size(1) * groups} input channels, input has {s.InChannels}");
        Require(bias == null || bias.Length == s.OutChannels, "Conv1d", $"bias must have {s.OutChannels} elements");
        Require(s.OutLength > 0, "Conv1d", $"input length {s.InLength} is too short for kernel {s.Kernel} with padding {padding}");
        Tensor y = Tensor.Uninitialized(s.Batch, s.OutChannels, s.OutLength);
        Conv1dKernels.Forward(x.Span, weight.Span, bias == null ? [] : bias.Span, s, y.Span);

        return Recorded(Tape.For(x, weight, bias), y, dy => Conv1dKernels.Backward(dy.Span, x.Span, weight.Span, s,
            x.RequiresGrad ? x.GradSpan() : [], weight.RequiresGrad ? weight.GradSpan() : [],
            bias?.RequiresGrad == true ? bias.GradSpan() : []));
    }
}
