using Wav2Vec2.Kernels;

namespace Wav2Vec2.Nn;

/// <summary>
/// The bfloat16 form of a linear layer's weight (out, in), stored transposed (in, out) as the product reads it:
/// derived from the fp32 weight on first use and dropped when that changes, or held alone (a model loaded from a bf16
/// directory), the fp32 storage released.
/// </summary>
internal sealed class Bf16WeightCache(Parameter weight)
{
    private ushort[]? _transposed;

    /// <summary>True when the bf16 form is all the layer holds.</summary>
    public bool Held { get; private set; }

    private int Rows => weight.Size(0);
    private int Columns => weight.Size(1);

    /// <summary>W^T (in x out, row-major) in bf16 (one read: another thread may drop it meanwhile).</summary>
    public ushort[] Transposed => _transposed ??= Transpose(weight.Span, static v => BFloat16.Narrow(v), Rows, Columns);

    /// <summary>Forgets the derived form after the fp32 weight changed (a held form stays: it is the weight).</summary>
    public void Drop()
    {
        if (!Held)
            _transposed = null;
    }

    /// <summary>The stored form: bf16 in the weight's layout (out, in).</summary>
    public ushort[] Stored() => Transpose<ushort, ushort>(Transposed, static v => v, Columns, Rows);

    /// <summary>Makes stored bf16 values (out, in) the layer's weight, held alone, the fp32 storage released.</summary>
    /// <exception cref="InvalidDataException">The values do not fit the layer.</exception>
    public void Hold(string name, ushort[] values)
    {
        if (values.Length != weight.Length)
            throw new InvalidDataException($"{name}: {values.Length} bf16 values do not fit a weight of shape {Tensors.Tensor.FormatShape(weight.ShapeArray)}");
        _transposed = Transpose<ushort, ushort>(values, static v => v, Rows, Columns);
        Held = true;
        // The reconstruction reads the held form: capturing `values` would keep a second copy alive.
        weight.ReleaseStorage(Precision.BFloat16, () =>
        {
            var w = new float[weight.Length];
            BFloat16.Widen(Stored(), w);
            return w;
        });
    }

    /// <summary>Bytes of the bf16 form held (0 when none is).</summary>
    public long Bytes => 2L * (_transposed?.Length ?? 0);

    private static TOut[] Transpose<TIn, TOut>(ReadOnlySpan<TIn> source, Func<TIn, TOut> convert, int rows, int columns)
    {
        var result = new TOut[source.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = convert(source[r * columns + c]);
        return result;
    }
}
