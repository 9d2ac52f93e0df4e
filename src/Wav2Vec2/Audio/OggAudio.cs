using System.Buffers.Binary;
using Concentus;
using NAudio.Wave;
using NVorbis;

namespace Wav2Vec2.Audio;

/// <summary>
/// Ogg Vorbis (NVorbis) and Ogg Opus (Concentus, which decodes packets only: the Ogg pages come from
/// <see cref="OggReader"/>). Both are checked page by page first, so damage is an error rather than a shorter clip.
/// </summary>
internal static class OggAudio
{
    /// <summary>Opens an Ogg file as interleaved samples at its own rate (48 kHz for Opus).</summary>
    public static ISampleProvider Open(Stream stream, string name)
    {
        byte[] first = new OggReader(stream, name).Packets().FirstOrDefault()
            ?? throw new InvalidDataException($"{name}: empty Ogg stream");
        // Every page's checksum first: NVorbis stops quietly at a damaged page, and Opus needs the last granule.
        stream.Position = 0;
        long granule = OggReader.Verify(stream, name);
        stream.Position = 0;
        if (first.AsSpan().StartsWith("OpusHead"u8))
            return new OpusSampleProvider(stream, name, first, granule);
        if (!first.AsSpan().StartsWith("\u0001vorbis"u8))
            throw new InvalidDataException($"{name}: the Ogg stream holds neither Vorbis nor Opus audio");
        return new VorbisSampleProvider(stream);
    }

    /// <summary>Samples per channel and rate from the last page's granule position (Opus: minus the pre-skip).</summary>
    public static (int SampleRate, long Samples) ReadInfo(Stream stream, string name)
    {
        ISampleProvider provider = Open(stream, name);
        return (provider.WaveFormat.SampleRate, ((IKnownLength)provider).Frames);
    }

    private sealed class VorbisSampleProvider : ISampleProvider, IKnownLength
    {
        private readonly VorbisReader reader;
        private long produced;

        public VorbisSampleProvider(Stream stream)
        {
            reader = new VorbisReader(stream, closeOnDispose: false) { ClipSamples = false };
            WaveFormat = WaveFormat.CreateIeeeFloatWaveFormat(reader.SampleRate, reader.Channels);
            Frames = reader.TotalSamples;
        }

        public WaveFormat WaveFormat { get; }

        public long Frames { get; }

        // NVorbis reports the length the last granule gives, but reads the whole last packet past it: cut there.
        public int Read(Span<float> buffer)
        {
            int channels = WaveFormat.Channels;
            int wanted = (int)Math.Min(buffer.Length / channels, Frames - produced) * channels;
            int read = wanted == 0 ? 0 : reader.ReadSamples(buffer[..wanted]);
            produced += read / channels;
            return read;
        }
    }

    /// <summary>
    /// Opus at 48 kHz (Concentus at lower rates turns hybrid-mode packets into silence), less the header's pre-skip,
    /// trimmed to the last granule position, with the header's output gain, as RFC 7845 and ffmpeg decode it.
    /// </summary>
    private sealed class OpusSampleProvider : ISampleProvider, IKnownLength
    {
        public const int Rate = 48000;
        private const int MaxPacketFrames = 5760;   // 120 ms at 48 kHz
        private readonly IEnumerator<byte[]> packets;
        private readonly Func<byte[], float[], int> decode;
        private readonly float gain;
        private readonly int channels;
        private readonly float[] decoded;
        private int skip, available, used;
        private long produced;

        public OpusSampleProvider(Stream stream, string name, byte[] head, long lastGranule)
        {
            if (head.Length < 19 || head[8] >> 4 != 0)
                throw new InvalidDataException($"{name}: unsupported Opus header (version {(head.Length > 8 ? head[8] : -1)})");
            channels = head[9];
            skip = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(10));
            gain = MathF.Pow(10, BinaryPrimitives.ReadInt16LittleEndian(head.AsSpan(16)) / (20f * 256));
            decode = CreateDecoder(head, name);
            decoded = new float[MaxPacketFrames * channels];
            WaveFormat = WaveFormat.CreateIeeeFloatWaveFormat(Rate, channels);
            Frames = Math.Max(0, lastGranule - skip);
            packets = new OggReader(stream, name).Packets().GetEnumerator();
            packets.MoveNext();   // OpusHead
            packets.MoveNext();   // OpusTags
        }

        public WaveFormat WaveFormat { get; }

        /// <summary>Samples per channel after pre-skip and end trimming.</summary>
        public long Frames { get; }

        public int Read(Span<float> buffer)
        {
            int written = 0;
            while (written + channels <= buffer.Length && produced < Frames)
            {
                if (used == available && !Refill())
                    break;
                int frames = (int)Math.Min(Math.Min((available - used) / channels, (buffer.Length - written) / channels), Frames - produced);
                for (int i = 0; i < frames * channels; i++)
                    buffer[written + i] = decoded[used + i] * gain;
                used += frames * channels;
                written += frames * channels;
                produced += frames;
            }
            return written;
        }

        private bool Refill()
        {
            while (packets.MoveNext())
            {
                int frames = decode(packets.Current, decoded);
                int dropped = Math.Min(skip, frames);
                skip -= dropped;
                (used, available) = (dropped * channels, frames * channels);
                if (used < available)
                    return true;
            }
            return false;
        }

        // Channel mapping family 0 is one stream of one or two channels; family 1 is the Vorbis layouts of up to
        // eight channels in several streams.
        private static Func<byte[], float[], int> CreateDecoder(byte[] head, string name)
        {
            int channels = head[9], family = head[18];
            if (channels == 0)
                throw new InvalidDataException($"{name}: the Opus header declares no channels");
            if (family == 0 && channels <= 2)
            {
                IOpusDecoder single = OpusCodecFactory.CreateDecoder(Rate, channels);
                return (packet, output) => single.Decode(packet, output, MaxPacketFrames, false);
            }
            if (family != 1 || channels > 8 || head.Length < 21 + channels)
                throw new InvalidDataException($"{name}: unsupported Opus channel mapping (family {family}, {channels} channels)");
            IOpusMultiStreamDecoder multi = OpusCodecFactory.CreateMultiStreamDecoder(Rate, channels, head[19], head[20], head[21..(21 + channels)]);
            return (packet, output) => multi.DecodeMultistream(packet, output, MaxPacketFrames, false);
        }
    }
}
