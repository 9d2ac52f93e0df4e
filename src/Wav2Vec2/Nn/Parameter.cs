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
}
