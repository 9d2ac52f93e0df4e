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

    /// <summary>True when the fp32 values were released because the layer holds the weight in int8 alone.</summary>
    public bool IsHeldAsInt8 => _heldValues != null;

    /// <summary>Releases the fp32 storage of a weight its layer now holds in another form; <paramref name="values"/>
    /// reconstructs them (for diagnostics).</summary>
    internal void ReleaseStorage(Func<float[]> values)
    {
        _heldValues = values;
        Release();
    }

    /// <summary>The values: the stored ones, or those the held form gives (a copy).</summary>
    internal ReadOnlySpan<float> Values() => _heldValues is { } held ? held() : Span;

    private protected override Exception StorageReleased() => _heldValues == null ? base.StorageReleased()
        : new InvalidOperationException($"weight '{Name}' is held in int8 only (the model was loaded from an int8 directory): " +
            "it runs inference in int8; to train, run fp32 or save fp32, load the fp32 model");
}
