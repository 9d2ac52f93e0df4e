using System.Buffers.Binary;

namespace Wav2Vec2.Audio;

/// <summary>
/// The packets of an Ogg stream (RFC 3533), strictly: every page's CRC is checked, page numbers may not skip, the
/// stream holds one logical bitstream and ends with its end-of-stream page. libogg and ffmpeg resynchronise past a
/// damaged page and play on; for training data a silently shortened or spliced recording is worse than an error, so
/// any damage is an <see cref="InvalidDataException"/> naming the file and the byte offset.
/// </summary>
internal sealed class OggReader(Stream stream, string name)
{
    private const byte Continued = 1, FirstPage = 2, LastPage = 4;
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>The granule position of the last page read (for the codec: the end of the samples decoded so far).</summary>
    public long Granule { get; private set; } = -1;

    /// <summary>Whether the end-of-stream page has been read.</summary>
    public bool Ended { get; private set; }

    /// <summary>
    /// Checks every page of the stream from its current position to the end-of-stream page and returns the last
    /// granule position (the end of the audio, in the codec's samples per channel).
    /// </summary>
    public static long Verify(Stream stream, string name)
    {
        var reader = new OggReader(stream, name);
        foreach (byte[] _ in reader.Packets())
        {
            // Reading the pages is the check.
        }
        return reader.Granule;
    }

    /// <summary>The stream's packets in order; a packet spanning pages is joined.</summary>
    public IEnumerable<byte[]> Packets()
    {
        var header = new byte[27];
        var lacing = new byte[255];
        var packet = new MemoryStream();
        int serial = 0;
        long expectedPage = 0;
        while (!Ended)
        {
            long offset = stream.Position;
            int read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (read < header.Length && expectedPage > 0)
                throw new InvalidDataException($"{name}: truncated Ogg stream (it ends after page {expectedPage - 1} without an end-of-stream page)");
            if (read < header.Length || !header.AsSpan(0, 4).SequenceEqual("OggS"u8) || header[4] != 0)
                throw new InvalidDataException(expectedPage == 0 ? $"{name}: not an Ogg stream"
                    : $"{name}: corrupt Ogg stream (no page header at byte {offset})");
            byte flags = header[5];
            int pageSerial = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(14));
            long sequence = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(18));
            int segments = header[26];
            ReadPagePart(lacing.AsSpan(0, segments), offset);
            int bodyLength = 0;
            for (int i = 0; i < segments; i++)
                bodyLength += lacing[i];
            var body = new byte[bodyLength];
            ReadPagePart(body, offset);
            if (Crc(header, lacing.AsSpan(0, segments), body) != BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(22)))
                throw new InvalidDataException($"{name}: corrupt Ogg page at byte {offset} (checksum mismatch)");
            if (expectedPage == 0)
                serial = pageSerial;
            else if (pageSerial != serial)
                throw new InvalidDataException($"{name}: the Ogg file holds more than one stream (chained or multiplexed), which is not supported");
            if (sequence != expectedPage || ((flags & FirstPage) != 0) != (expectedPage == 0))
                throw new InvalidDataException($"{name}: corrupt Ogg stream (page {sequence} at byte {offset}, page {expectedPage} expected)");
            if (((flags & Continued) != 0) != (packet.Length > 0))
                throw new InvalidDataException($"{name}: corrupt Ogg stream (broken packet continuation at byte {offset})");
            expectedPage++;
            Ended = (flags & LastPage) != 0;
            long granule = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(6));
            if (granule != -1)   // -1: no packet ends on this page
                Granule = granule;
            int start = 0;
            for (int i = 0; i < segments; i++)
            {
                if (lacing[i] == 255)
                    continue;
                int end = BodyOffset(lacing, i + 1);
                packet.Write(body, start, end - start);
                start = end;
                yield return packet.ToArray();
                packet.SetLength(0);
            }
            packet.Write(body, start, bodyLength - start);   // continues on the next page
        }
    }

    private static int BodyOffset(byte[] lacing, int segments)
    {
        int sum = 0;
        for (int i = 0; i < segments; i++)
            sum += lacing[i];
        return sum;
    }

    private void ReadPagePart(Span<byte> destination, long pageOffset)
    {
        if (stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false) < destination.Length)
            throw new InvalidDataException($"{name}: truncated Ogg stream (the page at byte {pageOffset} is cut off)");
    }

    // Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, computed with the checksum field zeroed.
    private static uint Crc(byte[] header, ReadOnlySpan<byte> lacing, ReadOnlySpan<byte> body)
    {
        uint crc = 0;
        for (int i = 0; i < header.Length; i++)
            crc = Update(crc, i is >= 22 and < 26 ? (byte)0 : header[i]);
        foreach (byte b in lacing)
            crc = Update(crc, b);
        foreach (byte b in body)
            crc = Update(crc, b);
        return crc;

        static uint Update(uint crc, byte b) => (crc << 8) ^ CrcTable[(crc >> 24) ^ b];
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint r = i << 24;
            for (int bit = 0; bit < 8; bit++)
                r = (r & 0x80000000) != 0 ? (r << 1) ^ 0x04C11DB7 : r << 1;
            table[i] = r;
        }
        return table;
    }
}
