using System.Buffers.Binary;
using NAudio.Wave;
using NLayer;

namespace Wav2Vec2.Audio;

/// <summary>
/// MPEG-1/2/2.5 audio layers I-III, decoded by NLayer. Our own walk over the frame headers comes first: it skips ID3v2
/// tags, requires the frames to follow one another to the end of the file (a cut-off or damaged stream is an error, not
/// a shorter clip; a trailing ID3v1 or APE tag ends the walk), counts the samples and reads the LAME/Xing header's
/// encoder delay and padding. NLayer is then given the frames after that header, and the decoder's own delay (529
/// samples) plus the encoder delay are skipped and the padding cut, as ffmpeg does: the samples line up with the
/// recording that was encoded.
/// </summary>
internal static class Mp3Audio
{
    private const int DecoderDelay = 529;

    /// <summary>Whether <paramref name="head"/> starts an MP3 file: an ID3v2 tag, or two consecutive frame headers.</summary>
    public static bool IsMp3(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("ID3"u8))
            return true;
        FrameHeader? first = FrameHeader.Parse(head);
        return first is { } f && f.Length + 4 <= head.Length && FrameHeader.Parse(head[f.Length..]) is { } second
            && second.SampleRate == f.SampleRate;
    }

    /// <summary>Opens an MP3 file as interleaved samples at its own rate.</summary>
    public static ISampleProvider Open(Stream stream, string name)
    {
        Layout layout = Walk(stream, name);
        return new Mp3SampleProvider(stream, layout, name);
    }

    /// <summary>Rate and samples per channel from the frame headers alone.</summary>
    public static (int SampleRate, long Samples) ReadInfo(Stream stream, string name)
    {
        Layout layout = Walk(stream, name);
        return (layout.SampleRate, layout.Samples);
    }

    // Where the audio frames are and how many samples they hold after the gapless trim.
    private sealed record Layout(long AudioStart, long AudioEnd, int SampleRate, int Channels, long Skip, long Samples);

    private static Layout Walk(Stream stream, string name)
    {
        long length = stream.Length;
        stream.Position = 0;
        long at = SkipId3v2(stream, name);
        var buffer = new byte[4];
        FrameHeader? first = null;
        long frames = 0, audioStart = -1;
        int delay = -1, padding = 0, declaredFrames = -1;
        while (at + 4 <= length)
        {
            stream.Position = at;
            stream.ReadExactly(buffer);
            if (first != null && (buffer.AsSpan(0, 3).SequenceEqual("TAG"u8) || buffer.AsSpan().SequenceEqual("APET"u8)))
                break;   // ID3v1 / APEv2 tags at the end
            FrameHeader header = FrameHeader.Parse(buffer) is { } h && (first == null || h.SampleRate == first.Value.SampleRate)
                ? h : throw new InvalidDataException(first == null ? $"{name}: not an MP3 file (no MPEG audio frame at byte {at})"
                    : $"{name}: corrupt MP3 (frame {frames + 1} at byte {at} is not an MPEG audio frame)");
            if (at + header.Length > length)
                throw new InvalidDataException($"{name}: truncated MP3 (frame {frames + 1} at byte {at} is cut off)");
            if (first == null)
            {
                first = header;
                var frame = new byte[header.Length];
                stream.Position = at;
                stream.ReadExactly(frame);
                if (ReadGaplessHeader(frame, header) is { } gapless)
                {
                    (declaredFrames, delay, padding) = gapless;
                    at += header.Length;   // the header frame holds no audio
                    continue;
                }
            }
            if (audioStart < 0)
                audioStart = at;
            frames++;
            at += header.Length;
        }
        if (first == null || frames == 0)
            throw new InvalidDataException($"{name}: MP3 file holds no audio frames");
        if (declaredFrames > frames)
            throw new InvalidDataException($"{name}: truncated MP3 ({frames} of the {declaredFrames} frames its header declares)");
        FrameHeader f = first.Value;
        long total = frames * f.SamplesPerFrame;
        long skip = delay >= 0 ? delay + DecoderDelay : 0;
        long samples = delay >= 0 ? Math.Clamp(total - delay - padding, 0, total - skip) : total;
        if (samples == 0)
            throw new InvalidDataException($"{name}: MP3 file holds no samples");
        return new Layout(audioStart, at, f.SampleRate, f.Channels, skip, samples);
    }

    private static long SkipId3v2(Stream stream, string name)
    {
        var header = new byte[10];
        long at = 0;
        while (stream.ReadAtLeast(header, 10, throwOnEndOfStream: false) == 10 && header.AsSpan(0, 3).SequenceEqual("ID3"u8))
        {
            // Synch-safe size: 7 bits per byte; a footer adds 10 bytes.
            int size = (header[6] & 0x7F) << 21 | (header[7] & 0x7F) << 14 | (header[8] & 0x7F) << 7 | (header[9] & 0x7F);
            at += 10 + size + ((header[5] & 0x10) != 0 ? 10 : 0);
            if (at > stream.Length)
                throw new InvalidDataException($"{name}: truncated MP3 (its ID3 tag declares {size} bytes, past the end of the file)");
            stream.Position = at;
        }
        return at;
    }

    // The Xing/Info header LAME writes in place of the first frame: the frame count, then LAME's encoder delay and
    // padding (12 bits each, 21 bytes after "LAME").
    private static (int Frames, int Delay, int Padding)? ReadGaplessHeader(ReadOnlySpan<byte> frame, FrameHeader header)
    {
        int offset = 4 + (header.Version == 1 ? (header.Channels == 1 ? 17 : 32) : (header.Channels == 1 ? 9 : 17));
        if (offset + 8 > frame.Length || !(frame[offset..].StartsWith("Xing"u8) || frame[offset..].StartsWith("Info"u8)))
            return null;
        int flags = BinaryPrimitives.ReadInt32BigEndian(frame[(offset + 4)..]);
        int at = offset + 8;
        int frames = -1;
        if ((flags & 1) != 0 && at + 4 <= frame.Length)
        {
            frames = BinaryPrimitives.ReadInt32BigEndian(frame[at..]);
            at += 4;
        }
        at += ((flags & 2) != 0 ? 4 : 0) + ((flags & 4) != 0 ? 100 : 0) + ((flags & 8) != 0 ? 4 : 0);
        if (at + 24 > frame.Length || !frame[at..].StartsWith("LAME"u8))
            return (frames, 0, 0);
        ReadOnlySpan<byte> gap = frame.Slice(at + 21, 3);
        return (frames, gap[0] << 4 | gap[1] >> 4, (gap[1] & 0xF) << 8 | gap[2]);
    }

    private readonly record struct FrameHeader(int Version, int Layer, int SampleRate, int Channels, int Length, int SamplesPerFrame)
    {
        private static readonly int[,] Bitrates =   // kbit/s by (table, index): V1 L1, V1 L2, V1 L3, V2 L1, V2 L2/L3
        {
            { 0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448 },
            { 0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384 },
            { 0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 },
            { 0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256 },
            { 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 },
        };

        private static readonly int[] Rates = [44100, 48000, 32000];

        // Null unless a valid header: the 11-bit sync, a known version and layer, a bitrate that is neither free nor bad.
        public static FrameHeader? Parse(ReadOnlySpan<byte> b)
        {
            if (b.Length < 4 || b[0] != 0xFF || (b[1] & 0xE0) != 0xE0)
                return null;
            int versionBits = (b[1] >> 3) & 3, layerBits = (b[1] >> 1) & 3;
            int bitrateIndex = b[2] >> 4, rateIndex = (b[2] >> 2) & 3, padding = (b[2] >> 1) & 1;
            if (versionBits == 1 || layerBits == 0 || bitrateIndex is 0 or 15 || rateIndex == 3)
                return null;
            int version = versionBits == 3 ? 1 : 2;   // MPEG-2.5 decodes as MPEG-2 at a quarter of MPEG-1's rates
            int layer = 4 - layerBits;
            int rate = Rates[rateIndex] >> (versionBits switch { 3 => 0, 2 => 1, _ => 2 });
            int table = version == 1 ? layer - 1 : layer == 1 ? 3 : 4;
            int bitrate = Bitrates[table, bitrateIndex] * 1000;
            int channels = (b[3] >> 6) == 3 ? 1 : 2;
            int samples = layer == 1 ? 384 : layer == 2 || version == 1 ? 1152 : 576;
            int length = layer == 1 ? (12 * bitrate / rate + padding) * 4 : samples / 8 * bitrate / rate + padding;
            return new FrameHeader(version, layer, rate, channels, length, samples);
        }
    }

    /// <summary>NLayer over the audio frames only, with the gapless skip and trim.</summary>
    private sealed class Mp3SampleProvider : ISampleProvider, IKnownLength
    {
        private readonly MpegFile decoder;
        private readonly Layout layout;
        private long skip, left;

        public Mp3SampleProvider(Stream stream, Layout layout, string name)
        {
            this.layout = layout;
            (skip, left) = (layout.Skip, layout.Samples);
            decoder = new MpegFile(new ReadOnlyWindowStream(stream, layout.AudioStart, layout.AudioEnd));
            if (decoder.SampleRate != layout.SampleRate || decoder.Channels != layout.Channels)
                throw new InvalidDataException($"{name}: corrupt MP3 (the decoder sees {decoder.SampleRate} Hz, {decoder.Channels} channels; the frames say {layout.SampleRate} Hz, {layout.Channels})");
            WaveFormat = WaveFormat.CreateIeeeFloatWaveFormat(layout.SampleRate, layout.Channels);
        }

        public WaveFormat WaveFormat { get; }

        public long Frames => layout.Samples;

        public int Read(Span<float> buffer)
        {
            int channels = layout.Channels;
            while (skip > 0)
            {
                int got = decoder.ReadSamples(buffer[..(int)Math.Min(buffer.Length - buffer.Length % channels, skip * channels)]);
                if (got == 0)
                    return 0;
                skip -= got / channels;
            }
            int wanted = (int)Math.Min(buffer.Length / channels, left) * channels;
            int read = wanted == 0 ? 0 : decoder.ReadSamples(buffer[..wanted]);
            left -= read / channels;
            return read;
        }
    }
}
