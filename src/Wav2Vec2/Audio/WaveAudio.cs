using System.Buffers.Binary;
using NAudio.Wave;

namespace Wav2Vec2.Audio;

/// <summary>
/// WAV (PCM 8/16/24/32-bit, float 32/64, WAVE_FORMAT_EXTENSIBLE, RF64) and AIFF/AIFC through NAudio's readers and
/// sample converters. NAudio reads a cut-off data chunk quietly as a shorter one; the declared size is checked here so
/// that a truncated file is an error, as it is for the other formats.
/// </summary>
internal static class WaveAudio
{
    /// <summary>Opens a WAV (<paramref name="aiff"/> false) or AIFF file as interleaved samples.</summary>
    public static ISampleProvider Open(Stream stream, string name, bool aiff)
    {
        WaveStream reader = OpenReader(stream, name, aiff);
        try
        {
            return new KnownLengthProvider(reader.ToSampleProvider(), reader.Length / reader.WaveFormat.BlockAlign);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"{name}: unsupported {(aiff ? "AIFF" : "WAV")} encoding ({reader.WaveFormat.Encoding}, " +
                $"{reader.WaveFormat.BitsPerSample} bits): PCM 8/16/24/32-bit and float 32/64-bit are read ({e.Message})");
        }
    }

    /// <summary>Rate and samples per channel from the header.</summary>
    public static (int SampleRate, long Samples) ReadInfo(Stream stream, string name, bool aiff)
    {
        using WaveStream reader = OpenReader(stream, name, aiff);
        return (reader.WaveFormat.SampleRate, reader.Length / reader.WaveFormat.BlockAlign);
    }

    private static WaveStream OpenReader(Stream stream, string name, bool aiff)
    {
        string format = aiff ? "AIFF" : "WAV";
        WaveStream reader;
        try
        {
            reader = aiff ? new AiffFileReader(stream) : new WaveFileReader(stream);
        }
        catch (Exception e) when (e is FormatException or EndOfStreamException or ArgumentException or InvalidOperationException
            or InvalidDataException)   // NAudio's own, which do not name the file
        {
            throw new InvalidDataException($"{name}: {(e is EndOfStreamException ? "truncated" : "malformed")} {format} file ({e.Message})");
        }
        WaveFormat f = reader.WaveFormat;
        if (f.Channels <= 0 || f.SampleRate <= 0 || f.BlockAlign < f.Channels * Math.Max(1, f.BitsPerSample / 8))
            throw new InvalidDataException($"{name}: invalid {format} format ({f.Channels} channels, {f.SampleRate} Hz, block of {f.BlockAlign} bytes)");
        if (!aiff)
            CheckDeclaredLength(stream, name);
        if (reader.Length < f.BlockAlign)
            throw new InvalidDataException($"{name}: {format} file contains no samples");
        return reader;
    }

    // WaveFileReader leaves the stream at the start of the samples, just after the data chunk's 32-bit size; it clamps
    // that size to the file quietly. 0 and 0xFFFFFFFF are what streaming writers leave when the length is unknown.
    private static void CheckDeclaredLength(Stream stream, string name)
    {
        long dataStart = stream.Position;
        Span<byte> size = stackalloc byte[4];
        stream.Position = dataStart - 4;
        stream.ReadExactly(size);
        stream.Position = dataStart;
        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(size);
        long present = stream.Length - dataStart;
        if (declared != 0xFFFFFFFF && declared != 0 && declared > present)
            throw new InvalidDataException($"{name}: truncated WAV (data chunk declares {declared} bytes, {present} present)");
    }
}
