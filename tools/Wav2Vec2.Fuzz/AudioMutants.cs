using System.Buffers.Binary;
using System.Text;

namespace Wav2Vec2.Fuzz;

/// <summary>
/// Mutants of recordings in every format AudioFile reads (16-bit and float WAV, FLAC, MP3 with a LAME tag, Ogg Vorbis,
/// Ogg Opus): WAV header fields (rate, channels, bit depth, block alignment, encoding, chunk sizes), bit flips,
/// truncation, zeroed and 0xFF runs, non-finite float samples, and foreign bytes (empty, text, random, another
/// container's header), each run through `w2v2 features`.
/// </summary>
public static class AudioMutants
{
    private static readonly string[] Classes = ["wav header", "bit flips", "truncation", "zeroed runs", "non-finite samples", "foreign bytes"];

    /// <summary><paramref name="count"/> mutants drawn from <paramref name="seed"/>, cycling through the classes.</summary>
    public static IEnumerable<Mutant> Generate(Fixtures fixtures, int count, int seed)
        => Mutants.Cycle("audio", Classes, count, seed, (kind, r, work) =>
        {
            string[] recordings = fixtures.Recordings;
            string source = kind switch
            {
                "wav header" => r.Next(2) == 0 ? fixtures.PcmWav : fixtures.FloatWav,
                "non-finite samples" => fixtures.FloatWav,
                _ => recordings[r.Next(recordings.Length)],
            };
            byte[] bytes = Mutate(kind, File.ReadAllBytes(source), r);
            string path = Path.Combine(work, "clip" + Path.GetExtension(source));
            File.WriteAllBytes(path, bytes);
            string output = Path.Combine(work, "features.npy");
            return new Invocation(["features", "--model", fixtures.SafeTensorsModel, "--audio", path, "--out", output], path, output);
        });

    private static byte[] Mutate(string kind, byte[] file, Random r)
    {
        switch (kind)
        {
            case "wav header":
                return WavHeader(file, r);
            case "bit flips":
                for (int flips = 1 + r.Next(r.Next(2) == 0 ? 4 : file.Length / 100 + 1), f = 0; f < flips; f++)
                {
                    int at = r.Next(2) == 0 ? r.Next(Math.Min(file.Length, 200)) : r.Next(file.Length);   // headers half the time
                    file[at] ^= (byte)(1 << r.Next(8));
                }
                return file;
            case "truncation":
                return file[..(r.Next(3) switch { 0 => r.Next(Math.Min(file.Length, 64)), 1 => file.Length - 1 - r.Next(16), _ => r.Next(file.Length) })];
            case "zeroed runs":
            {
                int at = r.Next(file.Length), length = 1 + r.Next(3000);
                file.AsSpan(at, Math.Min(length, file.Length - at)).Fill(r.Next(2) == 0 ? (byte)0 : (byte)0xFF);
                return file;
            }
            case "non-finite samples":
            {
                int data = DataOffset(file);
                float[] values = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3e38f];
                for (int n = 1 + r.Next(3), i = 0; i < n; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(data + 4 * r.Next((file.Length - data) / 4)), values[r.Next(values.Length)]);
                return file;
            }
            default:
                return r.Next(5) switch
                {
                    0 => [],
                    1 => Encoding.UTF8.GetBytes("this is not a recording\n"),
                    2 => [.. Enumerable.Range(0, 1 + r.Next(5000)).Select(_ => (byte)r.Next(256))],
                    3 => [0, 0, 0, 0x20, .. "ftypM4A "u8.ToArray(), .. file],
                    _ => [.. "RIFF"u8.ToArray(), .. file[4..8], .. "AVI "u8.ToArray(), .. file[12..]],
                };
        }
    }

    // One field of the fmt or data chunk set to a value a damaged or hostile file could hold.
    private static byte[] WavHeader(byte[] file, Random r)
    {
        int fmt = Find(file, "fmt "u8), data = DataOffset(file) - 8;
        (int Offset, int Width, long[] Values)[] fields =
        [
            (fmt + 4, 4, [0, 8, 15, 0x7FFFFFF0, 0xFFFFFFFF]),            // fmt chunk size
            (fmt + 8, 2, [0, 2, 6, 7, 0x55, 0xFFFE, 0xFFFF]),              // encoding
            (fmt + 10, 2, [0, 3, 8, 255, 65535]),                          // channels
            (fmt + 12, 4, [0, 1, 2, 999, 1_000_000, int.MaxValue, 0xFFFFFFFF]),   // sample rate
            (fmt + 20, 2, [0, 1, 3, 7, 65535]),                            // block alignment
            (fmt + 22, 2, [0, 1, 12, 13, 48, 64, 65535]),                  // bits per sample
            (data + 4, 4, [0, 1, 3, 0x7FFFFFFF, 0xFFFFFFFF]),              // data chunk size
        ];
        var (offset, width, values) = fields[r.Next(fields.Length)];
        long value = values[r.Next(values.Length)];
        if (width == 2)
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(offset), (ushort)value);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(offset), (uint)value);
        return file;
    }

    private static int DataOffset(byte[] file) => Find(file, "data"u8) + 8;

    private static int Find(byte[] file, ReadOnlySpan<byte> id)
    {
        int at = file.AsSpan(12).IndexOf(id);
        return at >= 0 ? at + 12 : throw new InvalidOperationException($"the fixture has no '{Encoding.ASCII.GetString(id)}' chunk");
    }
}
