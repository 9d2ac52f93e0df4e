using Wav2Vec2.Kernels;

namespace Wav2Vec2.Nn;

/// <summary>
/// The int8 form of a layer's weight, (out, in) or (out, in / groups, kernel): derived from the fp32 weight on first
/// use and dropped when that changes, or held alone (a model loaded from an int8 directory), the fp32 storage released.
/// </summary>
internal sealed class Int8WeightCache(Parameter weight, int groups)
{
    private Int8Weights[][]? _taps;

    /// <summary>True when the int8 form is all the layer holds.</summary>
    public bool Held { get; private set; }

    private int OutChannels => weight.Size(0);
    private int InPerGroup => weight.Size(1);
    private int Kernel => weight.Rank == 3 ? weight.Size(2) : 1;

    /// <summary>The shape of the stored scales: (out) for a linear layer, (out, kernel) for a convolution.</summary>
    public int[] ScaleShape => weight.Rank == 3 ? [OutChannels, Kernel] : [OutChannels];

    /// <summary>The [group][tap] matrices the int8 kernels multiply (one read: another thread may drop them meanwhile).</summary>
    public Int8Weights[][] Taps => _taps ??= Int8Convolution.QuantizeTaps(weight.Span, OutChannels, InPerGroup, Kernel, groups);

    /// <summary>Forgets the derived form after the fp32 weight changed (a held form stays: it is the weight).</summary>
    public void Drop()
    {
        if (!Held)
            _taps = null;
    }

    /// <summary>The stored form (q in the weight's layout, full range, and the scales) of what the layer holds.</summary>
    public (sbyte[] Values, float[] Scales) Stored() => Held
        ? Int8Convolution.Unpack(_taps!, OutChannels, InPerGroup, Kernel)
        : Int8Convolution.QuantizeStored(weight.Span, OutChannels, InPerGroup, Kernel, groups);

    /// <summary>
    /// Makes a stored int8 weight the layer's weight: held alone, the fp32 storage released; on a CPU without an int8
    /// kernel it is dequantised into the fp32 weight instead (the layer then runs fp32).
    /// </summary>
    /// <exception cref="InvalidDataException">The values or scales do not fit the layer.</exception>
    public void Hold(string name, sbyte[] values, float[] scales)
    {
        if (values.Length != weight.Length || scales.Length != OutChannels * Kernel)
            throw new InvalidDataException($"{name}: {values.Length} int8 values and {scales.Length} scales do not fit a weight " +
                $"of shape {Tensors.Tensor.FormatShape(weight.ShapeArray)} (scales {Tensors.Tensor.FormatShape(ScaleShape)})");
        if (!Int8Gemm.Accelerated)
        {
            Int8Convolution.Dequantize(values, scales, Kernel, weight.Span);
            _taps = null;
            return;
        }
        _taps = Int8Convolution.FromStored(values, scales, OutChannels, InPerGroup, Kernel, groups);
        Held = true;
        weight.ReleaseStorage(Precision.Int8, () =>
        {
            (sbyte[] q, float[] s) = Stored();
            var w = new float[q.Length];
            Int8Convolution.Dequantize(q, s, Kernel, w);
            return w;
        });
    }

    /// <summary>Bytes of the int8 form held (0 when none is).</summary>
    public long Bytes => _taps?.Sum(group => group.Sum(tap => tap.Bytes)) ?? 0;
}
