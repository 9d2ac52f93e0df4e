namespace Wav2Vec2.Kernels;

/// <summary>
/// A dropout mask that is never stored: element i is kept when the counter-based uniform at (seed, offset + i) is at
/// least <see cref="Probability"/>. Forward and backward regenerate the same mask, on any number of threads.
/// </summary>
public readonly record struct DropoutMask(ulong Seed, ulong Offset, float Probability)
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

/// <summary>Stateless counter-based random numbers (SplitMix64's finaliser over seed and position).</summary>
public static class CounterRandom
{
    /// <summary>64 well-mixed bits for (seed, position).</summary>
    public static ulong Bits(ulong seed, ulong position)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + position * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public static float Uniform(ulong seed, ulong position) => (Bits(seed, position) >> 40) * (1.0f / (1 << 24));
}
