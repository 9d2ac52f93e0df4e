using NAudio.Wave;

namespace Wav2Vec2.Audio;

/// <summary>Writes mono float audio as 16-bit PCM or 32-bit float WAV through NAudio's writer (used by tools and tests).</summary>
internal static class WavWriter
{
    /// <summary>WAV bytes of <paramref name="clip"/> as 16-bit PCM, or IEEE float when <paramref name="asFloat"/>.</summary>
    public static byte[] Encode(AudioClip clip, bool asFloat = false)
    {
        var bytes = new MemoryStream();
        WaveFormat format = asFloat ? WaveFormat.CreateIeeeFloatWaveFormat(clip.SampleRate, 1) : new WaveFormat(clip.SampleRate, 16, 1);
        // NAudio converts to 16 bits without clipping: out-of-range samples are clipped here.
        float[] samples = asFloat ? clip.Samples : [.. clip.Samples.Select(v => Math.Clamp(v, -1f, 1f))];
        using (var writer = new WaveFileWriter(bytes, format))
            writer.WriteSamples(samples, 0, samples.Length);
        return bytes.ToArray();
    }
}
