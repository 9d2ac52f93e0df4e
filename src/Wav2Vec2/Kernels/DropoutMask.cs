namespace Wav2Vec2.Kernels;

/// <summary>
/// A dropout mask that is never stored: element i is kept when the counter-based uniform at (seed, offset + i) is at
/// least <see cref="Probability"/>. Forward and backward regenerate the same mask, on any number of threads.
/// </summary>
internal readonly record struct DropoutMask(ulong Seed, ulong Offset, float Probability)
{
    /// <summary>No dropout.</summary>
    public static DropoutMask None => new(0, 0, 0f);

    /// <summary>True when the mask drops anything.</summary>
    public bool IsActive => Probability > 0f;

    /// <summary>Multiplier of kept elements, 1 / (1 - p).</summary>
    public float KeepScale => Probability >= 1f ? 0f : 1f / (1f - Probability);

    /// <summary>The factor element <paramref name="index"/> is multiplied by: 0 or <see cref="KeepScale"/>.</summary>
    public float Factor(long index) =>
        !IsActive ? 1f : CounterRandom.Uniform(Seed, Offset + (ulong)index) >= Probability ? KeepScale : 0f;

    /// <summary>values[i] *= Factor(first + i).</summary>
    public void Apply(Span<float> values, long first)
    {
        if (!IsActive)
            return;
        for (int i = 0; i < values.Length; i++)
            values[i] *= Factor(first + i);
    }
}
