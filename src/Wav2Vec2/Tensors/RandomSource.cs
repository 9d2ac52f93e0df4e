using Wav2Vec2.Kernels;

namespace Wav2Vec2.Tensors;

/// <summary>
/// A seeded, counter-based random stream: value i of a draw is a hash of (seed, offset + i), so parallel kernels
/// produce the same numbers whatever the thread count, and the whole state is two integers (saved with checkpoints).
/// </summary>
public sealed class RandomSource(ulong seed)
{
    /// <summary>The seed this stream was created with.</summary>
    public ulong Seed { get; } = seed;

    /// <summary>How many values have been drawn so far; restoring it resumes the stream exactly.</summary>
    public ulong Offset { get; set; }

    /// <summary>Reserves <paramref name="count"/> values and returns the offset of the first one.</summary>
    internal ulong Reserve(long count)
    {
        ulong start = Offset;
        Offset += (ulong)count;
        return start;
    }

    /// <summary>The uniform value in [0, 1) at an absolute position of this stream (does not advance it).</summary>
    internal float UniformAt(ulong position) => CounterRandom.Uniform(Seed, position);

    /// <summary>Next uniform value in [0, 1).</summary>
    public float NextUniform() => UniformAt(Reserve(1));

    /// <summary>Next integer in [0, <paramref name="maxExclusive"/>).</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "Upper bound must be positive.");
        return (int)((CounterRandom.Bits(Seed, Reserve(1)) >> 11) % (ulong)maxExclusive);
    }

    /// <summary>Next standard normal value (Box-Muller).</summary>
    public float NextNormal()
    {
        ulong at = Reserve(2);
        double u1 = 1.0 - UniformAt(at);
        double u2 = UniformAt(at + 1);
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>A fresh dropout mask over <paramref name="count"/> elements, advancing the stream past it.</summary>
    internal DropoutMask NextDropoutMask(float probability, long count) =>
        probability <= 0f ? DropoutMask.None : new DropoutMask(Seed, Reserve(count), probability);
}
