using Wav2Vec2.Tensors;

namespace Wav2Vec2.Nn;

/// <summary>
/// A trainable tensor: lives on the managed heap (never in an arena), requires a gradient by default, and keeps its
/// gradient between backward passes until <see cref="ZeroGrad"/>.
/// </summary>
public sealed class Parameter : Tensor
{
    /// <summary>Creates a zero-filled parameter with a name used in checkpoints and error messages.</summary>
    public Parameter(string name, params int[] shape) : base(shape, clear: true, pooled: false)
    {
        Name = name;
        RequiresGrad = true;
    }

    /// <summary>Checkpoint name (Hugging Face naming, e.g. "encoder.layers.0.attention.q_proj.weight").</summary>
    public string Name { get; }

    /// <inheritdoc/>
    protected override bool PooledGradient => false;

    /// <summary>Clears the accumulated gradient.</summary>
    public void ZeroGrad() => Grad?.Span.Clear();

    private Func<float[]>? _heldValues;

    /// <summary>The precision the weight is held in alone, its fp32 values released (int8 or bf16: a model loaded from
    /// such a directory), or null.</summary>
    public Precision? HeldPrecision { get; private set; }

    /// <summary>Releases the fp32 storage of a weight its layer now holds in <paramref name="precision"/>;
    /// <paramref name="values"/> reconstructs them (for diagnostics).</summary>
    internal void ReleaseStorage(Precision precision, Func<float[]> values)
    {
        (HeldPrecision, _heldValues) = (precision, values);
        Release();
    }

    /// <summary>The values: the stored ones, or those the held form gives (a copy).</summary>
    internal ReadOnlySpan<float> Values() => _heldValues is { } held ? held() : Span;

    private protected override Exception StorageReleased() => HeldPrecision is not Precision held ? base.StorageReleased()
        : new HeldWeightsException($"weight '{Name}' is held in {Precisions.Name(held)} only (the model was loaded from " +
            $"a {Precisions.Name(held)} directory): it runs inference in {Precisions.Name(held)}; to train, run fp32 or save fp32, load the fp32 model");
}
