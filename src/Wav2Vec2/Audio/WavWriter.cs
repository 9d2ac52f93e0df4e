using System.Buffers.Binary;

namespace Wav2Vec2.Audio;

/// <summary>Writes mono float audio as 16-bit PCM or 32-bit float WAV (used by tools and tests).</summary>
internal static class WavWriter
{
    /// <summary>WAV bytes of <paramref name="clip"/> as 16-bit PCM, or IEEE float when <paramref name="asFloat"/>.</summary>
    public static byte[] Encode(AudioClip clip, bool asFloat = false)
    {
        int width = asFloat ? 4 : 2, dataBytes = clip.Samples.Length * width;
        var bytes = new byte[44 + dataBytes];
        Span<byte> s = bytes;
        "RIFF"u8.CopyTo(s);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], (uint)(36 + dataBytes));
        "WAVEfmt "u8.CopyTo(s[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(s[20..], (ushort)(asFloat ? 3 : 1));
        BinaryPrimitives.WriteUInt16LittleEndian(s[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(s[24..], (uint)clip.SampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(s[28..], (uint)(clip.SampleRate * width));
        BinaryPrimitives.WriteUInt16LittleEndian(s[32..], (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(s[34..], (ushort)(width * 8));
        "data"u8.CopyTo(s[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[40..], (uint)dataBytes);
        for (int i = 0; i < clip.Samples.Length; i++)
        {
            if (asFloat)
                BinaryPrimitives.WriteSingleLittleEndian(s[(44 + 4 * i)..], clip.Samples[i]);
            else
                BinaryPrimitives.WriteInt16LittleEndian(s[(44 + 2 * i)..], (short)Math.Clamp(MathF.Round(clip.Samples[i] * 32767f), -32768, 32767));
        }
        return bytes;
    }
}
