using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// WavLM's relative position bias (heads, length, length): entry (h, i, j) is <paramref name="embedding"/>'s row for
    /// the bucket of the offset j - i, column h. Buckets as Hugging Face's WavLMAttention._relative_positions_bucket:
    /// half of them per direction, exact below a quarter of the buckets, logarithmic up to
    /// <paramref name="maxDistance"/>, the last bucket beyond; the float32 arithmetic of that code, so that bucket
    /// edges fall where they fall there.
    /// </summary>
    /// <param name="embedding">(buckets, heads): the first layer's rel_attn_embed.</param>
    /// <param name="length">Frames.</param>
    /// <param name="maxDistance">max_bucket_distance.</param>
    public static Tensor RelativePositionBias(Tensor embedding, int length, int maxDistance)
    {
        Require(embedding.Rank == 2 && embedding.Size(0) >= 4, "RelativePositionBias", $"embedding must be (buckets >= 4, heads), got {Shape(embedding)}");
        Require(maxDistance > embedding.Size(0) / 4, "RelativePositionBias", $"max distance {maxDistance} must exceed a quarter of the buckets");
        int buckets = embedding.Size(0), heads = embedding.Size(1);
        var bucketOf = new int[2 * length - 1];   // by offset j - i + length - 1
        for (int offset = -(length - 1); offset < length; offset++)
            bucketOf[offset + length - 1] = RelativeBucket(offset, buckets, maxDistance);
        Tensor y = Tensor.Uninitialized(heads, length, length);
        ReadOnlySpan<float> e = embedding.Span;
        Span<float> output = y.Span;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < length; i++)
                for (int j = 0; j < length; j++)
                    output[(h * length + i) * length + j] = e[bucketOf[j - i + length - 1] * heads + h];
        return Recorded(Tape.For(embedding), y, dy =>
        {
            ReadOnlySpan<float> upstream = dy.Span;
            Span<float> grad = embedding.GradSpan();
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < length; i++)
                    for (int j = 0; j < length; j++)
                        grad[bucketOf[j - i + length - 1] * heads + h] += upstream[(h * length + i) * length + j];
        });
    }

    internal static int RelativeBucket(int offset, int buckets, int maxDistance)
    {
        int half = buckets / 2, maxExact = half / 2;
        int bucket = offset > 0 ? half : 0;
        int distance = Math.Abs(offset);
        if (distance < maxExact)
            return bucket + distance;
        float scaled = MathF.Log(distance / (float)maxExact) / (float)Math.Log(maxDistance / (double)maxExact) * (half - maxExact);
        return bucket + Math.Min((int)(maxExact + scaled), half - 1);
    }

    /// <summary>
    /// WavLM's gated position bias (batch, heads, length, length) for one layer's attention: each query frame's row of
    /// <paramref name="positionBias"/> scaled by a gate computed from that frame's slice of the attention input
    /// <paramref name="hidden"/> in each head (Hugging Face's gru_rel_pos): s = W x + b (8 values), a = sigmoid(s0 + ..
    /// + s3), g = sigmoid(s4 + .. + s7), gate = a (g c_h - 1) + 2.
    /// </summary>
    /// <param name="hidden">(batch, length, heads * headDim): the attention's input.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="gateWeight">(8, headDim): gru_rel_pos_linear.weight.</param>
    /// <param name="gateBias">(8): gru_rel_pos_linear.bias.</param>
    /// <param name="gateConstant">(heads values): gru_rel_pos_const.</param>
    /// <param name="positionBias">(heads, length, length): <see cref="RelativePositionBias"/>.</param>
    public static Tensor GatedPositionBias(Tensor hidden, int heads, Tensor gateWeight, Tensor gateBias, Tensor gateConstant, Tensor positionBias)
    {
        Require(hidden.Rank == 3 && hidden.Size(2) % heads == 0, "GatedPositionBias", $"hidden must be (batch, length, heads * headDim), got {Shape(hidden)}");
        int batch = hidden.Size(0), t = hidden.Size(1), d = hidden.Size(2) / heads, width = hidden.Size(2);
        Require(gateWeight.Length == 8 * d && gateBias.Length == 8 && gateConstant.Length == heads, "GatedPositionBias",
            $"gate weight (8, {d}), bias (8) and constant ({heads}) expected, got {Shape(gateWeight)}, {Shape(gateBias)}, {Shape(gateConstant)}");
        Require(positionBias.Rank == 3 && positionBias.Size(0) == heads && positionBias.Size(1) == t && positionBias.Size(2) == t,
            "GatedPositionBias", $"position bias must be ({heads}, {t}, {t}), got {Shape(positionBias)}");
        var a = new float[batch * heads * t];
        var g = new float[batch * heads * t];
        var gate = new float[batch * heads * t];
        ReadOnlySpan<float> x = hidden.Span, w = gateWeight.Span, wb = gateBias.Span, c = gateConstant.Span, pb = positionBias.Span;
        Span<float> s = stackalloc float[8];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < t; i++)
                {
                    ReadOnlySpan<float> slice = x.Slice((b * t + i) * width + h * d, d);
                    for (int j = 0; j < 8; j++)
                        s[j] = System.Numerics.Tensors.TensorPrimitives.Dot(w.Slice(j * d, d), slice) + wb[j];
                    int at = (b * heads + h) * t + i;
                    a[at] = Sigmoid(s[0] + s[1] + s[2] + s[3]);
                    g[at] = Sigmoid(s[4] + s[5] + s[6] + s[7]);
                    gate[at] = a[at] * (g[at] * c[h] - 1f) + 2f;
                }
        Tensor y = Tensor.Uninitialized(batch, heads, t, t);
        Span<float> output = y.Span;
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < t; i++)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(pb.Slice((h * t + i) * t, t), gate[(b * heads + h) * t + i],
                        output.Slice(((b * heads + h) * t + i) * t, t));
        Tape? tape = Tape.For([hidden, gateWeight, gateBias, gateConstant, positionBias]);
        return Recorded(tape, y, dy =>
        {
            ReadOnlySpan<float> upstream = dy.Span, x = hidden.Span, w = gateWeight.Span, c = gateConstant.Span, pb = positionBias.Span;
            Span<float> dx = hidden.RequiresGrad ? hidden.GradSpan() : [], dw = gateWeight.RequiresGrad ? gateWeight.GradSpan() : [],
                dwb = gateBias.RequiresGrad ? gateBias.GradSpan() : [], dc = gateConstant.RequiresGrad ? gateConstant.GradSpan() : [],
                dpb = positionBias.RequiresGrad ? positionBias.GradSpan() : [];
            for (int b = 0; b < batch; b++)
                for (int h = 0; h < heads; h++)
                    for (int i = 0; i < t; i++)
                    {
                        int at = (b * heads + h) * t + i;
                        ReadOnlySpan<float> row = upstream.Slice(at * t, t), bias = pb.Slice((h * t + i) * t, t);
                        if (dpb.Length > 0)   // d(gate * pb) / d pb = gate
                        {
                            Span<float> target = dpb.Slice((h * t + i) * t, t);
                            for (int j = 0; j < t; j++)
                                target[j] += gate[at] * row[j];
                        }
                        float dGate = System.Numerics.Tensors.TensorPrimitives.Dot(row, bias);
                        float dA = dGate * (g[at] * c[h] - 1f) * a[at] * (1f - a[at]);
                        float dG = dGate * a[at] * c[h] * g[at] * (1f - g[at]);
                        if (dc.Length > 0)
                            dc[h] += dGate * a[at] * g[at];
                        ReadOnlySpan<float> slice = x.Slice((b * t + i) * width + h * d, d);
                        for (int j = 0; j < 8; j++)
                        {
                            float ds = j < 4 ? dA : dG;
                            if (dwb.Length > 0)
                                dwb[j] += ds;
                            if (dw.Length > 0)
                                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(slice, ds, dw.Slice(j * d, d), dw.Slice(j * d, d));
                            if (dx.Length > 0)
                            {
                                Span<float> dslice = dx.Slice((b * t + i) * width + h * d, d);
                                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(w.Slice(j * d, d), ds, dslice, dslice);
                            }
                        }
                    }
        });
    }

    private static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));
}
