namespace Wav2Vec2.Kernels;

/// <summary>Stateless counter-based random numbers (SplitMix64's finaliser over seed and position).</summary>
internal static class CounterRandom
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
