using Wav2Vec2.Tensors;

namespace Wav2Vec2.Nn;

/// <summary>PyTorch's default initialisation: uniform in +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)).</summary>
internal static class Init
{
    /// <summary>Fills <paramref name="tensor"/> with uniform values in [-bound, bound).</summary>
    public static void Uniform(Tensor tensor, float bound, RandomSource random)
    {
        Span<float> values = tensor.Span;
        for (int i = 0; i < values.Length; i++)
            values[i] = (2f * random.NextUniform() - 1f) * bound;
    }

    /// <summary>Fills <paramref name="tensor"/> with normal values of the given standard deviation.</summary>
    public static void Normal(Tensor tensor, float std, RandomSource random)
    {
        Span<float> values = tensor.Span;
        for (int i = 0; i < values.Length; i++)
            values[i] = random.NextNormal() * std;
    }
}
