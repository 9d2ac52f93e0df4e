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
