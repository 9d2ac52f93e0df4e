namespace Wav2Vec2.Kernels;

/// <summary>
/// A dropout mask that is never stored: element i is kept when the counter-based uniform at (seed, offset + i) is at
/// least <see cref="Probability"/>. Forward and backward regenerate the same mask, on any number of threads and any
/// kernel path (the vector generators are bit-identical to the scalar one).
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
    public unsafe void Apply(Span<float> values, long first)
    {
        if (!IsActive)
            return;
        fixed (float* p = values)
        {
            var kernel = new MaskKernel(this, p, null, p, values.Length, first);
            Simd.Run(ref kernel);
        }
    }

    /// <summary>dx[i] += dy[i] * Factor(first + i): the backward of <see cref="Apply"/>.</summary>
    public unsafe void AddMasked(ReadOnlySpan<float> dy, Span<float> dx, long first)
    {
        fixed (float* pdy = dy, pdx = dx)
        {
            var kernel = new MaskKernel(this, pdy, pdx, pdx, dx.Length, first);
            Simd.Run(ref kernel);
        }
    }

    // output[i] = input[i] * Factor(first + i) (+ addend[i] when addend is not null).
    private readonly unsafe struct MaskKernel(DropoutMask mask, float* input, float* addend, float* output, int n, long first)
        : IVectorKernel
    {
        public void Run<TVec>() where TVec : struct, ISimd<TVec>
        {
            TVec probability = TVec.Create(mask.Probability), keep = TVec.Create(mask.KeepScale), zero = TVec.Create(0f);
            TVec one = TVec.Create(1f);
            int i = 0;
            for (; i <= n - TVec.Count; i += TVec.Count)
            {
                TVec u = TVec.CounterUniform(mask.Seed, mask.Offset + (ulong)(first + i));
                TVec factor = mask.IsActive ? TVec.WhereNegative(u - probability, zero, keep) : one;
                TVec value = TVec.Load(input + i) * factor;
                TVec.Store(addend == null ? value : value + TVec.Load(addend + i), output + i);
            }
            Scalar(i);
        }

        public void RunScalar() => Scalar(0);

        private void Scalar(int from)
        {
            for (int i = from; i < n; i++)
            {
                float value = input[i] * mask.Factor(first + i);
                output[i] = addend == null ? value : value + addend[i];
            }
        }
    }
}
