using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Multi-head scaled dot-product attention over projected q, k, v (batch, length, heads * headDim):
    /// softmax(q k^T / sqrt(headDim)) v per head, heads concatenated in the output (batch, length, heads * headDim).
    /// <paramref name="keyPaddingMask"/> (batch * length, true = padding) hides padded keys. Attention dropout with
    /// probability <paramref name="dropout"/> (needs <paramref name="random"/>) is applied to the probabilities.
    /// <paramref name="bias"/> (batch, heads, length, length), when given, is added to the scaled scores before the
    /// softmax and gets their gradient (WavLM's gated relative position bias).
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, bool[]? keyPaddingMask = null,
        float dropout = 0f, RandomSource? random = null, Tensor? bias = null)
    {
        using var _ = Diagnostics.StageProfiler.Enter("attention core");
        AttentionShape s = CheckAttention(q, k, v, heads, keyPaddingMask, bias);
        Require(dropout == 0f || random != null, "Attention", "dropout needs a RandomSource");
        ReadOnlySpan<float> biasValues = bias == null ? default : bias.Span;
        DropoutMask mask = dropout > 0f ? random!.NextDropoutMask(dropout, s.ProbabilityCount) : DropoutMask.None;
        float scale = 1f / MathF.Sqrt(s.HeadDim);
        Tensor output = Tensor.Uninitialized(q.ShapeArray);
        Tape? tape = bias == null ? Tape.For(q, k, v) : Tape.For([q, k, v, bias]);
        if (tape == null)
        {
            // Nothing to save for a backward pass: each head's probabilities are scratch while it runs.
            AttentionKernels.Forward(q.Span, k.Span, v.Span, keyPaddingMask, s, scale, mask, [], output.Span, biasValues);
            return output;
        }
        Tensor probabilities = Tensor.Uninitialized(s.Batch, heads, s.Length, s.Length);
        AttentionKernels.Forward(q.Span, k.Span, v.Span, keyPaddingMask, s, scale, mask, probabilities.Span, output.Span, biasValues);

        return Recorded(tape, output, dOutput => AttentionKernels.Backward(dOutput.Span, q.Span, k.Span,
            v.Span, probabilities.Span, s, scale, mask, q.RequiresGrad ? q.GradSpan() : [],
            k.RequiresGrad ? k.GradSpan() : [], v.RequiresGrad ? v.GradSpan() : [],
            bias is { RequiresGrad: true } ? bias.GradSpan() : []), probabilities);
    }

    /// <summary>
    /// <see cref="Attention"/> in inference with int8 products (<see cref="Nn.Precision.Int8"/>): q k^T and P v in 8-bit
    /// integers, the softmax in fp32 (see <see cref="AttentionKernels.ForwardInt8"/>). Not recorded.
    /// </summary>
    internal static Tensor Int8Attention(Tensor q, Tensor k, Tensor v, int heads, bool[]? keyPaddingMask = null, Tensor? bias = null)
    {
        using var _ = Diagnostics.StageProfiler.Enter("attention core");
        AttentionShape s = CheckAttention(q, k, v, heads, keyPaddingMask, bias);
        Tensor output = Tensor.Uninitialized(q.ShapeArray);
        AttentionKernels.ForwardInt8(q.Span, k.Span, v.Span, keyPaddingMask, s, 1f / MathF.Sqrt(s.HeadDim), output.Span,
            bias == null ? default : bias.Span);
        return output;
    }

    private static AttentionShape CheckAttention(Tensor q, Tensor k, Tensor v, int heads, bool[]? keyPaddingMask, Tensor? bias)
    {
        Require(q.Rank == 3 && q.SameShape(k) && q.SameShape(v), "Attention",
            $"q, k, v must share a (batch, length, dim) shape, got {Shape(q)}, {Shape(k)}, {Shape(v)}");
        Require(heads >= 1 && q.Size(2) % heads == 0, "Attention", $"dim {q.Size(2)} is not divisible by {heads} heads");
        var s = new AttentionShape(q.Size(0), q.Size(1), heads, q.Size(2) / heads);
        Require(keyPaddingMask == null || keyPaddingMask.Length == s.Batch * s.Length, "Attention",
            $"key padding mask needs batch * length = {s.Batch * s.Length} entries, got {keyPaddingMask?.Length}");
        Require(bias == null || (bias.Rank == 4 && bias.Size(0) == s.Batch && bias.Size(1) == heads && bias.Size(2) == s.Length && bias.Size(3) == s.Length),
            "Attention", $"bias must be (batch, heads, length, length) = ({s.Batch}, {heads}, {s.Length}, {s.Length}), got {(bias == null ? "" : Shape(bias))}");
        return s;
    }
}
