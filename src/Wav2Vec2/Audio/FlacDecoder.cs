using System.Security.Cryptography;

namespace Wav2Vec2.Audio;

/// <summary>STREAMINFO of a FLAC file.</summary>
internal sealed record FlacStreamInfo(int SampleRate, int Channels, int BitsPerSample, long TotalSamples, byte[] Md5);

/// <summary>
/// A managed FLAC decoder: constant, verbatim, fixed and LPC subframes, Rice-coded residuals (4 and 5-bit parameters,
/// escapes), wasted bits, 8-32 bit samples, independent and left/side, side/right, mid/side stereo. Frame CRC-8 and
/// CRC-16 are verified, and the MD5 of the decoded audio when STREAMINFO records one. Channels are averaged to mono.
/// Corrupt or unsupported files fail with <see cref="InvalidDataException"/>.
/// </summary>
internal static class FlacDecoder
{
    /// <summary>Bytes from the start of a file to the end of its STREAMINFO block.</summary>
    public const int StreamInfoEnd = 42;

    /// <summary>STREAMINFO (sample rate, channels, bits, total samples) from the first bytes of a file.</summary>
    public static FlacStreamInfo ReadStreamInfo(ReadOnlySpan<byte> head, string name)
    {
        byte[] copy = head[..Math.Min(head.Length, StreamInfoEnd)].ToArray();
        // The format requires STREAMINFO to be the first metadata block; mark it last so the walk stops there.
        if (copy.Length == StreamInfoEnd)
            copy[4] |= 0x80;
        return ParseHeader(copy, name).Info;
    }

    /// <summary>Decodes FLAC bytes; <paramref name="name"/> is used in error messages.</summary>
    public static AudioClip Decode(byte[] data, string name = "audio")
    {
        (FlacStreamInfo info, int position) = ParseHeader(data, name);
        var channels = new List<int>[info.Channels];
        for (int c = 0; c < info.Channels; c++)
            channels[c] = new List<int>(info.TotalSamples > 0 ? (int)Math.Min(info.TotalSamples, int.MaxValue / 2) : 4096);
        var reader = new BitReader(data, position, name);
        var block = new int[info.Channels][];
        while (reader.BytePosition < data.Length - 1)
        {
            if (info.TotalSamples > 0 && channels[0].Count >= info.TotalSamples)
                break;
            int size = DecodeFrame(reader, info, block, name);
            for (int c = 0; c < info.Channels; c++)
                for (int i = 0; i < size; i++)
                    channels[c].Add(block[c][i]);
        }
        int total = channels[0].Count;
        if (total == 0)
            throw new InvalidDataException($"{name}: FLAC file contains no samples");
        if (info.TotalSamples > 0 && total != info.TotalSamples)
            throw new InvalidDataException($"{name}: truncated FLAC ({total} of {info.TotalSamples} samples)");
        if (info.Md5.Any(b => b != 0))
            CheckMd5(channels, info, name);
        var mono = new float[total];
        float scale = 1f / (1L << (info.BitsPerSample - 1)) / info.Channels;
        for (int c = 0; c < info.Channels; c++)
            for (int i = 0; i < total; i++)
                mono[i] += channels[c][i] * scale;
        return new AudioClip(mono, info.SampleRate);
    }

    private static (FlacStreamInfo Info, int Position) ParseHeader(byte[] data, string name)
    {
        if (data.Length < 8 || data[0] != 'f' || data[1] != 'L' || data[2] != 'a' || data[3] != 'C')
            throw new InvalidDataException($"{name}: not a FLAC file (no fLaC marker)");
        int at = 4;
        FlacStreamInfo? info = null;
        bool last = false;
        while (!last)
        {
            if (at + 4 > data.Length)
                throw new InvalidDataException($"{name}: truncated FLAC metadata");
            last = (data[at] & 0x80) != 0;
            int type = data[at] & 0x7F;
            int length = (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3];
            at += 4;
            if (at + length > data.Length)
                throw new InvalidDataException($"{name}: truncated FLAC metadata block");
            if (type == 0)
            {
                if (length < 34)
                    throw new InvalidDataException($"{name}: malformed STREAMINFO");
                var bits = new BitReader(data, at + 10, name);
                int rate = (int)bits.Read(20);
                int channels = (int)bits.Read(3) + 1;
                int bps = (int)bits.Read(5) + 1;
                long total = (long)bits.Read(36);
                info = new FlacStreamInfo(rate, channels, bps, total, data[(at + 18)..(at + 34)]);
                if (rate == 0 || bps < 4)
                    throw new InvalidDataException($"{name}: invalid STREAMINFO ({rate} Hz, {bps} bits)");
            }
            at += length;
        }
        return (info ?? throw new InvalidDataException($"{name}: FLAC file has no STREAMINFO"), at);
    }

    private static int DecodeFrame(BitReader r, FlacStreamInfo info, int[][] block, string name)
    {
        int frameStart = r.BytePosition;
        if (r.Read(14) != 0x3FFE)
            throw new InvalidDataException($"{name}: lost FLAC frame sync at byte {frameStart}");
        r.Read(2);   // reserved, blocking strategy
        int sizeCode = (int)r.Read(4), rateCode = (int)r.Read(4), assignment = (int)r.Read(4), bpsCode = (int)r.Read(3);
        r.Read(1);
        SkipUtf8Number(r, name);
        int size = sizeCode switch
        {
            1 => 192,
            >= 2 and <= 5 => 576 << (sizeCode - 2),
            6 => (int)r.Read(8) + 1,
            7 => (int)r.Read(16) + 1,
            >= 8 => 256 << (sizeCode - 8),
            _ => throw new InvalidDataException($"{name}: reserved FLAC block size code"),
        };
        if (rateCode == 12) r.Read(8);
        else if (rateCode is 13 or 14) r.Read(16);
        else if (rateCode == 15) throw new InvalidDataException($"{name}: invalid FLAC sample rate code");
        int bps = bpsCode switch
        {
            0 => info.BitsPerSample, 1 => 8, 2 => 12, 4 => 16, 5 => 20, 6 => 24, 7 => 32,
            _ => throw new InvalidDataException($"{name}: reserved FLAC sample size code"),
        };
        int channels = assignment < 8 ? assignment + 1 : 2;
        if (assignment > 10 || channels != info.Channels)
            throw new InvalidDataException($"{name}: FLAC frame channel layout {assignment} does not match {info.Channels} channels");
        byte crc8 = Crc8(r.Data, frameStart, r.BytePosition);
        if ((byte)r.Read(8) != crc8)
            throw new InvalidDataException($"{name}: FLAC frame header CRC mismatch at byte {frameStart} (corrupt file)");

        for (int c = 0; c < channels; c++)
        {
            if (block[c] == null || block[c].Length < size)
                block[c] = new int[size];
            bool side = (assignment == 8 && c == 1) || (assignment == 9 && c == 0) || (assignment == 10 && c == 1);
            DecodeSubframe(r, bps + (side ? 1 : 0), size, block[c], name);
        }
        Decorrelate(assignment, block, size);
        r.AlignToByte();
        ushort crc16 = Crc16(r.Data, frameStart, r.BytePosition);
        if ((ushort)r.Read(16) != crc16)
            throw new InvalidDataException($"{name}: FLAC frame CRC mismatch at byte {frameStart} (corrupt file)");
        return size;
    }

    private static void DecodeSubframe(BitReader r, int bps, int size, int[] output, string name)
    {
        if (r.Read(1) != 0)
            throw new InvalidDataException($"{name}: invalid FLAC subframe padding");
        int type = (int)r.Read(6);
        int wasted = 0;
        if (r.Read(1) == 1)
        {
            wasted = 1;
            while (r.Read(1) == 0)
                wasted++;
        }
        bps -= wasted;
        if (type == 0)
        {
            int value = r.ReadSigned(bps);
            Array.Fill(output, value, 0, size);
        }
        else if (type == 1)
        {
            for (int i = 0; i < size; i++)
                output[i] = r.ReadSigned(bps);
        }
        else if (type is >= 8 and <= 12)
        {
            int order = type & 7;
            for (int i = 0; i < order; i++)
                output[i] = r.ReadSigned(bps);
            DecodeResidual(r, size, order, output, name);
            RestoreFixed(output, size, order);
        }
        else if (type >= 32)
        {
            int order = (type & 31) + 1;
            for (int i = 0; i < order; i++)
                output[i] = r.ReadSigned(bps);
            int precision = (int)r.Read(4) + 1;
            if (precision == 16)
                throw new InvalidDataException($"{name}: invalid FLAC LPC precision");
            int shift = r.ReadSigned(5);
            if (shift < 0)
                throw new InvalidDataException($"{name}: negative FLAC LPC shift");
            var coefficients = new int[order];
            for (int i = 0; i < order; i++)
                coefficients[i] = r.ReadSigned(precision);
            DecodeResidual(r, size, order, output, name);
            for (int i = order; i < size; i++)
            {
                long prediction = 0;
                for (int j = 0; j < order; j++)
                    prediction += (long)coefficients[j] * output[i - 1 - j];
                output[i] += (int)(prediction >> shift);
            }
        }
        else
        {
            throw new InvalidDataException($"{name}: reserved FLAC subframe type {type}");
        }
        if (wasted > 0)
            for (int i = 0; i < size; i++)
                output[i] <<= wasted;
    }

    private static void DecodeResidual(BitReader r, int size, int order, int[] output, string name)
    {
        int method = (int)r.Read(2);
        if (method > 1)
            throw new InvalidDataException($"{name}: reserved FLAC residual coding method");
        int parameterBits = method == 0 ? 4 : 5, escape = (1 << parameterBits) - 1;
        int partitionOrder = (int)r.Read(4), partitions = 1 << partitionOrder;
        if ((size >> partitionOrder) < order || (size & (partitions - 1)) != 0)
            throw new InvalidDataException($"{name}: invalid FLAC residual partition order");
        int at = order;
        for (int p = 0; p < partitions; p++)
        {
            int count = (size >> partitionOrder) - (p == 0 ? order : 0);
            int parameter = (int)r.Read(parameterBits);
            if (parameter == escape)
            {
                int bits = (int)r.Read(5);
                for (int i = 0; i < count; i++)
                    output[at++] = bits == 0 ? 0 : r.ReadSigned(bits);
                continue;
            }
            for (int i = 0; i < count; i++)
            {
                uint quotient = r.ReadUnary();
                uint value = (quotient << parameter) | (uint)r.Read(parameter);
                output[at++] = (int)(value >> 1) ^ -(int)(value & 1);
            }
        }
    }

    private static void RestoreFixed(int[] x, int size, int order)
    {
        for (int i = order; i < size; i++)
        {
            x[i] += order switch
            {
                0 => 0,
                1 => x[i - 1],
                2 => 2 * x[i - 1] - x[i - 2],
                3 => 3 * x[i - 1] - 3 * x[i - 2] + x[i - 3],
                _ => 4 * x[i - 1] - 6 * x[i - 2] + 4 * x[i - 3] - x[i - 4],
            };
        }
    }

    private static void Decorrelate(int assignment, int[][] b, int size)
    {
        for (int i = 0; i < size; i++)
        {
            switch (assignment)
            {
                case 8: b[1][i] = b[0][i] - b[1][i]; break;                  // left/side
                case 9: b[0][i] += b[1][i]; break;                           // side/right
                case 10:                                                     // mid/side
                    long mid = ((long)b[0][i] << 1) | (long)(b[1][i] & 1), side = b[1][i];
                    b[0][i] = (int)((mid + side) >> 1);
                    b[1][i] = (int)((mid - side) >> 1);
                    break;
            }
        }
    }

    private static void SkipUtf8Number(BitReader r, string name)
    {
        uint first = (uint)r.Read(8);
        int extra = first < 0x80 ? 0 : first >= 0xFE ? 6 : first >= 0xFC ? 5 : first >= 0xF8 ? 4 : first >= 0xF0 ? 3 : first >= 0xE0 ? 2 : first >= 0xC0 ? 1 : -1;
        if (extra < 0)
            throw new InvalidDataException($"{name}: invalid FLAC frame number");
        for (int i = 0; i < extra; i++)
            if ((r.Read(8) & 0xC0) != 0x80)
                throw new InvalidDataException($"{name}: invalid FLAC frame number");
    }

    private static void CheckMd5(List<int>[] channels, FlacStreamInfo info, string name)
    {
        int bytesPerSample = (info.BitsPerSample + 7) / 8;
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var frame = new byte[bytesPerSample * info.Channels * 4096];
        int total = channels[0].Count;
        for (int start = 0; start < total; start += 4096)
        {
            int count = Math.Min(4096, total - start), at = 0;
            for (int i = start; i < start + count; i++)
                for (int c = 0; c < info.Channels; c++)
                {
                    int v = channels[c][i];
                    for (int b = 0; b < bytesPerSample; b++)
                        frame[at++] = (byte)(v >> (8 * b));
                }
            md5.AppendData(frame, 0, at);
        }
        if (!md5.GetHashAndReset().AsSpan().SequenceEqual(info.Md5))
            throw new InvalidDataException($"{name}: FLAC MD5 mismatch (corrupt file)");
    }

    private static byte Crc8(byte[] data, int start, int end)
    {
        int crc = 0;
        for (int i = start; i < end; i++)
        {
            crc ^= data[i];
            for (int b = 0; b < 8; b++)
                crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x07) & 0xFF : (crc << 1) & 0xFF;
        }
        return (byte)crc;
    }

    private static ushort Crc16(byte[] data, int start, int end)
    {
        int crc = 0;
        for (int i = start; i < end; i++)
        {
            crc ^= data[i] << 8;
            for (int b = 0; b < 8; b++)
                crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x8005) & 0xFFFF : (crc << 1) & 0xFFFF;
        }
        return (ushort)crc;
    }

    /// <summary>Big-endian bit reader over a byte array.</summary>
    private sealed class BitReader(byte[] data, int position, string name)
    {
        private int _byte = position, _bit;

        public byte[] Data => data;

        public int BytePosition => _byte;

        public ulong Read(int count)
        {
            ulong value = 0;
            for (int i = 0; i < count; i++)
            {
                if (_byte >= data.Length)
                    throw new InvalidDataException($"{name}: truncated FLAC frame");
                value = (value << 1) | (uint)((data[_byte] >> (7 - _bit)) & 1);
                if (++_bit == 8)
                {
                    _bit = 0;
                    _byte++;
                }
            }
            return value;
        }

        public int ReadSigned(int count)
        {
            if (count == 0)
                return 0;
            long value = (long)Read(count);
            return (int)((value << (64 - count)) >> (64 - count));
        }

        public uint ReadUnary()
        {
            uint count = 0;
            while (Read(1) == 0)
                count++;
            return count;
        }

        public void AlignToByte()
        {
            if (_bit != 0)
            {
                _bit = 0;
                _byte++;
            }
        }
    }
}
