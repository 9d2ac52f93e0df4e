namespace Wav2Vec2.Audio;

/// <summary>Mono audio: samples in [-1, 1] (float) at a sample rate.</summary>
public sealed record AudioClip(float[] Samples, int SampleRate)
{
    /// <summary>Duration in seconds.</summary>
    public double Seconds => (double)Samples.Length / SampleRate;

    /// <summary>This clip at <paramref name="targetRate"/> (the same clip when the rate already matches).</summary>
    public AudioClip ResampleTo(int targetRate) =>
        targetRate == SampleRate ? this : new AudioClip(Resampler.Resample(Samples, SampleRate, targetRate), targetRate);
}

/// <summary>Per-utterance input normalisation of wav2vec 2.0 (Hugging Face's do_normalize, fairseq's normalize).</summary>
public static class AudioNormalization
{
    /// <summary>Zero mean, unit variance: (x - mean) / sqrt(var + 1e-7), statistics in double.</summary>
    public static float[] ZeroMeanUnitVariance(ReadOnlySpan<float> samples)
    {
        double mean = 0, variance = 0;
        foreach (float v in samples)
            mean += v;
        mean /= Math.Max(1, samples.Length);
        foreach (float v in samples)
            variance += (v - mean) * (v - mean);
        variance /= Math.Max(1, samples.Length);
        double scale = 1 / Math.Sqrt(variance + 1e-7);
        var result = new float[samples.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = (float)((samples[i] - mean) * scale);
        return result;
    }
}
