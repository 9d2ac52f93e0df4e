using Wav2Vec2.Autograd;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Nn;

/// <summary>Fully connected layer y = x W^T + b (Hugging Face names: weight, bias).</summary>
public sealed class Linear : Module
{
    /// <summary>
    /// Creates a layer with PyTorch's default initialisation, or, with <paramref name="normalStd"/>, normal weights of
    /// that standard deviation and a zero bias (Hugging Face's initializer_range scheme).
    /// </summary>
    public Linear(int inFeatures, int outFeatures, RandomSource random, bool bias = true, float? normalStd = null)
    {
        Weight = AddParameter("weight", outFeatures, inFeatures);
        float bound = 1f / MathF.Sqrt(inFeatures);
        if (normalStd is float std)
            Init.Normal(Weight, std, random);
        else
            Init.Uniform(Weight, bound, random);
        if (bias)
        {
            Bias = AddParameter("bias", outFeatures);
            if (normalStd is null)
                Init.Uniform(Bias, bound, random);
        }
        Int8 = new Int8WeightCache(Weight, groups: 1);
        Bf16 = new Bf16WeightCache(Weight);
    }

    /// <summary>(out, in).</summary>
    public Parameter Weight { get; }

    /// <summary>(out), or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Applies the layer to x (..., in).</summary>
    public Tensor Forward(Tensor x) => Forward(x, gelu: false);

    /// <summary>GELU(x W^T + b), fused into the product when nothing is recorded.</summary>
    public Tensor ForwardGelu(Tensor x) => Forward(x, gelu: true);

    /// <summary>The weight's int8 form (derived, or held alone in a model loaded from an int8 directory).</summary>
    internal Int8WeightCache Int8 { get; }

    /// <summary>The weight's bf16 form (derived, or held alone in a model loaded from a bf16 directory).</summary>
    internal Bf16WeightCache Bf16 { get; }

    /// <summary>True for a layer whose weight another operation reads directly (WavLM's gate): stored in fp32 always.</summary>
    internal bool KeepsFloat32 { get; init; }

    /// <summary>
    /// The same input through several layers (attention's q, k and v projections): in int8 the input is quantised
    /// once; otherwise as each layer's <see cref="Forward(Tensor)"/>.
    /// </summary>
    internal static Tensor[] ForwardShared(Tensor x, params Linear[] layers) => layers.All(layer => layer.RunsInt8)
        ? Ops.Int8Linears(x, [.. layers.Select(layer => (layer.QuantizedWeight(), (Tensor?)layer.Bias))])
        : [.. layers.Select(layer => layer.Forward(x))];

    private Tensor Forward(Tensor x, bool gelu) =>
        RunsInt8 ? Ops.Int8Linear(x, QuantizedWeight(), Bias, gelu)
        : RunsBf16 ? Ops.Bf16Linear(x, Bf16.Transposed, Bias, gelu)
        : Ops.Linear(x, Weight, Bias, gelu);

    private Int8Weights QuantizedWeight() => Int8.Taps[0][0];

    /// <inheritdoc/>
    private protected override void DropDerivedWeights()
    {
        Int8.Drop();
        Bf16.Drop();
    }
}
