namespace Wav2Vec2.Audio;

/// <summary>
/// Band-limited resampling by a polyphase windowed-sinc filter. For a rate ratio out/in = L/M (reduced), output sample n
/// sits at input position n M / L; its L possible fractional phases each get a precomputed filter: a sinc with cutoff
/// 0.475 x min(in, out) (5% transition band below the new Nyquist frequency), 32 zero crossings per side at that cutoff,
/// shaped by a Kaiser window (beta 9.6, about 96 dB stop-band attenuation). Against sox's default resampler the output
/// differs by -96 to -113 dB (error energy relative to the signal) on tones and sweeps inside the pass band, from
/// 8, 44.1 and 48 kHz (tests pin -90 dB).
/// </summary>
internal static class Resampler
{
    private const double CutoffFraction = 0.475;
    private const int ZeroCrossings = 32;
    private const double KaiserBeta = 9.6;
    private const int MaxPhases = 8192;

    /// <summary>Resamples <paramref name="samples"/> from <paramref name="fromRate"/> to <paramref name="toRate"/> Hz.</summary>
    public static float[] Resample(ReadOnlySpan<float> samples, int fromRate, int toRate)
    {
        if (fromRate <= 0 || toRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(fromRate), $"sample rates must be positive ({fromRate} -> {toRate})");
        if (fromRate == toRate)
            return samples.ToArray();
        int g = Gcd(fromRate, toRate);
        int up = toRate / g, down = fromRate / g;
        if (up > MaxPhases)
            throw new ArgumentException($"resampling {fromRate} -> {toRate} Hz needs {up} filter phases; at most {MaxPhases} are supported");

        // Filter in input-sample units: cutoff (cycles per input sample) and half-length in input samples.
        double cutoff = CutoffFraction * Math.Min(1.0, (double)toRate / fromRate);
        int halfTaps = (int)Math.Ceiling(ZeroCrossings / (2 * cutoff));
        int taps = 2 * halfTaps;
        var bank = new float[up * taps];   // (phase, tap)
        double besselBeta = BesselI0(KaiserBeta);
        for (int phase = 0; phase < up; phase++)
        {
            double fraction = (double)phase / up;   // output position minus the first tap's input index, minus halfTaps - 1
            for (int t = 0; t < taps; t++)
            {
                double distance = t - (halfTaps - 1) - fraction;     // input index minus exact output position
                double window = Math.Abs(distance) >= halfTaps ? 0
                    : BesselI0(KaiserBeta * Math.Sqrt(1 - Math.Pow(distance / halfTaps, 2))) / besselBeta;
                bank[phase * taps + t] = (float)(2 * cutoff * Sinc(2 * cutoff * distance) * window);
            }
        }

        long outLength = ((long)samples.Length * up + down - 1) / down;
        var output = new float[outLength];
        float[] padded = new float[samples.Length + 2 * taps];
        samples.CopyTo(padded.AsSpan(taps));
        for (long n = 0; n < outLength; n++)
        {
            long position = n * down;             // in units of 1 / up input samples
            long whole = position / up;
            int phase = (int)(position % up);
            int first = (int)(whole - (halfTaps - 1)) + taps;  // index in padded
            output[n] = System.Numerics.Tensors.TensorPrimitives.Dot(padded.AsSpan(first, taps), bank.AsSpan(phase * taps, taps));
        }
        return output;
    }

    private static double Sinc(double x) => x == 0 ? 1 : Math.Sin(Math.PI * x) / (Math.PI * x);

    private static double BesselI0(double x)
    {
        double sum = 1, term = 1;
        for (int k = 1; k < 50; k++)
        {
            term *= x * x / (4.0 * k * k);
            sum += term;
            if (term < 1e-12 * sum)
                break;
        }
        return sum;
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
