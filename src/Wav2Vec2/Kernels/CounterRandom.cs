using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Stateless counter-based random numbers (SplitMix64's finaliser over seed and position). The vector forms compute
/// the same 64-bit arithmetic lane by lane, so every kernel path draws bit-identical numbers.
/// </summary>
internal static class CounterRandom
{
    private const ulong SeedFactor = 0x9E3779B97F4A7C15UL, PositionFactor = 0xD1B54A32D192ED03UL, Offset = 0x632BE59BD9B4E019UL;
    private const ulong Mix1 = 0xBF58476D1CE4E5B9UL, Mix2 = 0x94D049BB133111EBUL;
    private const float UniformScale = 1.0f / (1 << 24);

    /// <summary>64 well-mixed bits for (seed, position).</summary>
    public static ulong Bits(ulong seed, ulong position)
    {
        ulong z = seed * SeedFactor + position * PositionFactor + Offset;
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public static float Uniform(ulong seed, ulong position) => (Bits(seed, position) >> 40) * UniformScale;

    /// <summary>Uniform(seed, first + i) in lane i.</summary>
    public static Vector512<float> Uniform512(ulong seed, ulong first)
    {
        Vector512<ulong> lanes = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7), at = Vector512.Create(first) + lanes;
        Vector512<ulong> seedTerm = Vector512.Create(seed * SeedFactor + Offset);
        Vector512<uint> high = Vector512.Narrow(Bits(seedTerm, at) >> 40, Bits(seedTerm, at + Vector512.Create(8UL)) >> 40);
        return Vector512.ConvertToSingle(high) * UniformScale;
    }

    /// <summary>Uniform(seed, first + i) in lane i.</summary>
    public static Vector256<float> Uniform256(ulong seed, ulong first)
    {
        Vector256<ulong> at = Vector256.Create(first) + Vector256.Create(0UL, 1, 2, 3);
        Vector256<ulong> seedTerm = Vector256.Create(seed * SeedFactor + Offset);
        Vector256<uint> high = Vector256.Narrow(Bits(seedTerm, at) >> 40, Bits(seedTerm, at + Vector256.Create(4UL)) >> 40);
        return Vector256.ConvertToSingle(high) * UniformScale;
    }

    /// <summary>Uniform(seed, first + i) in lane i.</summary>
    public static Vector128<float> Uniform128(ulong seed, ulong first)
    {
        Vector128<ulong> at = Vector128.Create(first) + Vector128.Create(0UL, 1);
        Vector128<ulong> seedTerm = Vector128.Create(seed * SeedFactor + Offset);
        Vector128<uint> high = Vector128.Narrow(Bits(seedTerm, at) >> 40, Bits(seedTerm, at + Vector128.Create(2UL)) >> 40);
        return Vector128.ConvertToSingle(high) * UniformScale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Bits(Vector512<ulong> seedTerm, Vector512<ulong> at)
    {
        Vector512<ulong> z = seedTerm + at * PositionFactor;
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Bits(Vector256<ulong> seedTerm, Vector256<ulong> at)
    {
        Vector256<ulong> z = seedTerm + at * PositionFactor;
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Bits(Vector128<ulong> seedTerm, Vector128<ulong> at)
    {
        Vector128<ulong> z = seedTerm + at * PositionFactor;
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }
}
