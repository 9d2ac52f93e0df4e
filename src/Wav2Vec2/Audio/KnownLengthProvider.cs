using NAudio.Wave;

namespace Wav2Vec2.Audio;

/// <summary>A decoder's samples with the count its header promises, so that a decode that stops early is seen.</summary>
internal interface IKnownLength
{
    /// <summary>Samples per channel the decoder should produce.</summary>
    long Frames { get; }
}

/// <summary>Any sample provider with a promised length.</summary>
internal sealed class KnownLengthProvider(ISampleProvider source, long frames) : ISampleProvider, IKnownLength
{
    public WaveFormat WaveFormat => source.WaveFormat;

    public long Frames => frames;

    public int Read(Span<float> buffer) => source.Read(buffer);
}
