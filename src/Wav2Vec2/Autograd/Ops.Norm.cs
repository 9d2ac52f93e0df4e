using Wav2Vec2.Diagnostics;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Layer norm over dimension <paramref name="dim"/> (default: the last) with optional affine gamma/beta of that
    /// size. dim = 1 of a (batch, channels, time) conv output normalises over channels, as fairseq's
    /// "layer" feature-extractor norm does.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, float eps = 1e-5f, int dim = -1)
    {
        using var _ = StageProfiler.Enter("norms");
        int d = x.NormalizeDim(dim);
        if (d != x.Rank - 1)
            return Transpose(LayerNorm(Transpose(x, d, -1), gamma, beta, eps), d, -1);
        int size = x.Size(-1), rows = x.Length / Math.Max(1, size);
        (Tensor y, Tensor mean, Tensor rstd) = LastDimLayerNorm("LayerNorm", x, null, gamma, beta, eps);

        return Recorded(Tape.For(x, gamma, beta), y, dy => NormKernels.LayerNormBackward(dy.Span, x.Span, rows, size,
            gamma == null ? [] : gamma.Span, mean.Span, rstd.Span, x.RequiresGrad ? x.GradSpan() : [],
            gamma?.RequiresGrad == true ? gamma.GradSpan() : [], beta?.RequiresGrad == true ? beta.GradSpan() : []));
    }

    /// <summary>
    /// LayerNorm(x + residual) over the last dimension, as a post-LN Transformer layer's residual connection: when
    /// nothing is recorded, each row is summed into the result and normalised there (no tensor holds the sum), else an
    /// Add and a LayerNorm op.
    /// The result is the same to the bit either way.
    /// </summary>
    public static Tensor AddLayerNorm(Tensor x, Tensor residual, Tensor? gamma, Tensor? beta, float eps = 1e-5f)
    {
        Require(x.SameShape(residual), "AddLayerNorm", $"input {Shape(x)} and residual {Shape(residual)} differ in shape");
        if (Tape.For(x, residual) != null || Tape.For(x, gamma, beta) != null)
            return LayerNorm(Add(x, residual), gamma, beta, eps);
        using var _ = StageProfiler.Enter("norms");
        return LastDimLayerNorm("AddLayerNorm", x, residual, gamma, beta, eps).Y;
    }

    // Layer norm of x (+ residual) over the last dimension, with the per-row statistics the backward needs.
    private static (Tensor Y, Tensor Mean, Tensor Rstd) LastDimLayerNorm(string op, Tensor x, Tensor? residual, Tensor? gamma,
        Tensor? beta, float eps)
    {
        int size = x.Size(-1), rows = x.Length / Math.Max(1, size);
        Require(gamma == null || gamma.Length == size, op, $"gamma must have {size} elements, got {gamma?.Length}");
        Require(beta == null || beta.Length == size, op, $"beta must have {size} elements, got {beta?.Length}");
        Tensor y = Tensor.Uninitialized(x.ShapeArray);
        Tensor mean = Tensor.Uninitialized(rows), rstd = Tensor.Uninitialized(rows);
        NormKernels.LayerNormForward(x.Span, rows, size, gamma == null ? [] : gamma.Span, beta == null ? [] : beta.Span,
            eps, y.Span, mean.Span, rstd.Span, residual == null ? [] : residual.Span);
        return (y, mean, rstd);
    }

    /// <summary>
    /// Group norm of x (batch, channels, length) with <paramref name="groups"/> groups of consecutive channels and
    /// per-channel affine gamma/beta (groups = channels is fairseq's "group" feature-extractor norm).
    /// With <paramref name="inPlace"/> the result overwrites x (inference only).
    /// </summary>
    public static Tensor GroupNorm(Tensor x, int groups, Tensor? gamma, Tensor? beta, float eps = 1e-5f, bool inPlace = false)
    {
        using var _ = StageProfiler.Enter("norms");
        Require(x.Rank == 3, "GroupNorm", $"input must be (batch, channels, length), got {Shape(x)}");
        int batch = x.Size(0), channels = x.Size(1), length = x.Size(2);
        (Tensor y, Tensor mean, Tensor rstd) = GroupNormOutputs("GroupNorm", x, batch, channels, groups, gamma, beta, inPlace);
        NormKernels.GroupNormForward(x.Span, batch, channels, length, groups, gamma == null ? [] : gamma.Span,
            beta == null ? [] : beta.Span, eps, y.Span, mean.Span, rstd.Span);

        return Recorded(Tape.For(x, gamma, beta), y, dy => NormKernels.GroupNormBackward(dy.Span, x.Span, batch, channels,
            length, groups, gamma == null ? [] : gamma.Span, mean.Span, rstd.Span, x.RequiresGrad ? x.GradSpan() : [],
            gamma?.RequiresGrad == true ? gamma.GradSpan() : [], beta?.RequiresGrad == true ? beta.GradSpan() : []));
    }

    // Checks groups and affine sizes; the output (x itself when in place) and per-(item, group) statistics.
    private static (Tensor Y, Tensor Mean, Tensor Rstd) GroupNormOutputs(string op, Tensor x, int batch, int channels,
        int groups, Tensor? gamma, Tensor? beta, bool inPlace)
    {
        Require(groups >= 1 && channels % groups == 0, op, $"{channels} channels are not divisible into {groups} groups");
        Require(gamma == null || gamma.Length == channels, op, $"gamma must have {channels} elements");
        Require(beta == null || beta.Length == channels, op, $"beta must have {channels} elements");
        Tensor y = inPlace ? InPlaceTarget(x, op) : Tensor.Uninitialized(x.ShapeArray);
        return (y, Tensor.Uninitialized(batch * groups), Tensor.Uninitialized(batch * groups));
    }

    /// <summary>
    /// Weight normalisation w = g * v / ||v|| (PyTorch's weight_norm). The norm is taken over every dimension except
    /// <paramref name="dim"/>, and g holds one scale per index of that dimension (any shape with that many elements,
    /// e.g. (1, 1, K) for dim 2). dim = null (or -1, as in torch._weight_norm) normalises the whole tensor with one g.
    /// </summary>
    public static Tensor WeightNorm(Tensor g, Tensor v, int? dim)
    {
        bool whole = dim is null or -1;
        (int outer, int size, int inner) = whole ? (1, 1, v.Length) : v.SplitAt(dim!.Value);
        Require(g.Length == size, "WeightNorm", $"g has {g.Length} elements, expected {size} for v {Shape(v)} and dim {dim}");
        var dots = new double[size];
        WeightNormKernels.Dots(v.Span, v.Span, outer, size, inner, dots);
        var norms = new float[size];
        var scale = new float[size];   // g_j / n_j
        for (int j = 0; j < size; j++)
        {
            norms[j] = (float)Math.Sqrt(dots[j]);
            scale[j] = g.Span[j] / norms[j];
        }
        Tensor w = Tensor.Uninitialized(v.ShapeArray);
        WeightNormKernels.Scale(v.Span, scale, [], [], outer, size, inner, w.Span, accumulate: false);

        return Recorded(Tape.For(g, v), w, dw =>
        {
            // dg_j = sum(dw * v) / n_j;  dv = g_j / n_j * dw - g_j * sum(dw * v) / n_j^3 * v
            WeightNormKernels.Dots(dw.Span, v.Span, outer, size, inner, dots);
            if (g.RequiresGrad)
            {
                Span<float> dg = g.GradSpan();
                for (int j = 0; j < size; j++)
                    dg[j] += (float)(dots[j] / norms[j]);
            }
            if (v.RequiresGrad)
            {
                var vScale = new float[size];
                for (int j = 0; j < size; j++)
                    vScale[j] = (float)(-g.Span[j] * dots[j] / ((double)norms[j] * norms[j] * norms[j]));
                WeightNormKernels.Scale(dw.Span, scale, v.Span, vScale, outer, size, inner, v.GradSpan(), accumulate: true);
            }
        });
    }
}
