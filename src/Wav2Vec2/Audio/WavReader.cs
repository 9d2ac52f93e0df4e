using System.Buffers.Binary;

namespace Wav2Vec2.Audio;

/// <summary>
/// Reads RIFF/WAVE files: PCM 8 (unsigned), 16, 24 and 32-bit, IEEE float 32 and 64-bit, also inside
/// WAVE_FORMAT_EXTENSIBLE; any channel count, downmixed to mono by averaging. Unknown chunks (LIST, fact, cue, ...) and
/// their padding bytes are skipped. Malformed, truncated or empty files fail with <see cref="InvalidDataException"/>.
/// </summary>
internal static class WavReader
{
    private const ushort FormatPcm = 1, FormatFloat = 3, FormatExtensible = 0xFFFE;

    /// <summary>Reads WAV bytes; <paramref name="name"/> is used in error messages.</summary>
    public static AudioClip Read(ReadOnlySpan<byte> data, string name = "audio")
    {
        (Format format, int offset, long length) = Locate(data, data.Length, name);
        return Decode(data.Slice(offset, (int)length), format, name);
    }

    /// <summary>Bytes of a file's start that <see cref="ReadInfo"/> needs at most.</summary>
    public const int InfoHeadLength = 1 << 20;

    /// <summary>
    /// Sample rate and length (samples per channel) from the first bytes of a file of <paramref name="fileLength"/>
    /// bytes, without decoding the audio.
    /// </summary>
    public static (int SampleRate, long Samples) ReadInfo(ReadOnlySpan<byte> head, long fileLength, string name)
    {
        (Format format, _, long length) = Locate(head, fileLength, name);
        if (length / format.BlockAlign == 0)
            throw new InvalidDataException($"{name}: WAV file contains no samples");
        return (format.SampleRate, length / format.BlockAlign);
    }

    // Walks the chunks of `head` (the first bytes of a file of `fileLength` bytes) to the fmt and data chunks.
    private static (Format Format, int DataOffset, long DataLength) Locate(ReadOnlySpan<byte> head, long fileLength, string name)
    {
        if (head.Length < 12 || !head[..4].SequenceEqual("RIFF"u8) || !head.Slice(8, 4).SequenceEqual("WAVE"u8))
            throw new InvalidDataException($"{name}: not a WAV file (no RIFF/WAVE header)");
        Format? format = null;
        int dataOffset = -1;
        long dataLength = 0;
        long at = 12;
        while (at + 8 <= head.Length && (format == null || dataOffset < 0))
        {
            ReadOnlySpan<byte> id = head.Slice((int)at, 4);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(head.Slice((int)at + 4, 4));
            long body = at + 8, available = fileLength - body;
            if (id.SequenceEqual("data"u8))
            {
                if (size > available)
                {
                    // Streaming writers leave 0 or 0xFFFFFFFF when the length is unknown: read to the end of the file.
                    if (size != 0xFFFFFFFF && size != 0)
                        throw new InvalidDataException($"{name}: truncated WAV (data chunk declares {size} bytes, {available} present)");
                    size = available;
                }
                (dataOffset, dataLength) = ((int)body, size);
            }
            else if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || body + size > head.Length)
                    throw new InvalidDataException($"{name}: malformed fmt chunk ({size} bytes)");
                format = ParseFormat(head.Slice((int)body, (int)size), name);
            }
            else if (size > available)
            {
                throw new InvalidDataException($"{name}: truncated WAV (chunk '{System.Text.Encoding.ASCII.GetString(id)}' runs past the end)");
            }
            at = body + size + (size & 1);  // chunks are word-aligned
        }
        if (format == null)
            throw new InvalidDataException($"{name}: WAV file has no fmt chunk");
        if (dataOffset < 0)
            throw new InvalidDataException($"{name}: WAV file has no data chunk");
        return (format, dataOffset, dataLength);
    }

    private sealed record Format(ushort Code, int Channels, int SampleRate, int BitsPerSample, int BlockAlign);

    private static Format ParseFormat(ReadOnlySpan<byte> fmt, string name)
    {
        ushort code = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        int rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
        if (code == FormatExtensible)
        {
            if (fmt.Length < 40)
                throw new InvalidDataException($"{name}: WAVE_FORMAT_EXTENSIBLE fmt chunk is too short");
            code = BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]);   // the sub-format GUID starts with the format code
        }
        if (channels == 0 || rate <= 0)
            throw new InvalidDataException($"{name}: invalid WAV format ({channels} channels, {rate} Hz)");
        bool supported = (code == FormatPcm && bits is 8 or 16 or 24 or 32) || (code == FormatFloat && bits is 32 or 64);
        if (!supported)
            throw new InvalidDataException($"{name}: unsupported WAV encoding (format {code}, {bits} bits); PCM 8/16/24/32 and float 32/64 are read");
        if (blockAlign < channels * (bits / 8))
            throw new InvalidDataException($"{name}: invalid WAV block alignment {blockAlign}");
        return new Format(code, channels, rate, bits, blockAlign);
    }

    private static AudioClip Decode(ReadOnlySpan<byte> data, Format f, string name)
    {
        int frames = data.Length / f.BlockAlign;
        if (frames == 0)
            throw new InvalidDataException($"{name}: WAV file contains no samples");
        int width = f.BitsPerSample / 8;
        var mono = new float[frames];
        float channelScale = 1f / f.Channels;
        for (int i = 0; i < frames; i++)
        {
            float sum = 0;
            for (int c = 0; c < f.Channels; c++)
                sum += Sample(data.Slice(i * f.BlockAlign + c * width, width), f);
            mono[i] = sum * channelScale;
        }
        return new AudioClip(mono, f.SampleRate);
    }

    private static float Sample(ReadOnlySpan<byte> b, Format f) => (f.Code, f.BitsPerSample) switch
    {
        (FormatFloat, 32) => BinaryPrimitives.ReadSingleLittleEndian(b),
        (FormatFloat, _) => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
        (_, 8) => (b[0] - 128) / 128f,
        (_, 16) => BinaryPrimitives.ReadInt16LittleEndian(b) / 32768f,
        (_, 24) => ((b[0] | (b[1] << 8) | (b[2] << 16)) << 8 >> 8) / 8388608f,
        _ => BinaryPrimitives.ReadInt32LittleEndian(b) / 2147483648f,
    };
}
