using System.IO.Compression;
using System.Text;

namespace Wav2Vec2.Fuzz;

/// <summary>
/// Mutants of ARPA language models, plain and gzip: header counts (off by one, huge, negative, garbage), probabilities
/// (positive, NaN, infinite, garbage), lines removed, repeated or cut, bit flips, and damaged gzip streams.
/// </summary>
public static class ArpaMutants
{
    private static readonly string[] Classes = ["arpa counts", "arpa probabilities", "arpa lines", "arpa bit flips", "gzip corruption"];

    /// <summary><paramref name="count"/> mutants drawn from <paramref name="seed"/>, cycling through the classes.</summary>
    public static IEnumerable<Mutant> Generate(Fixtures fixtures, int count, int seed)
        => Mutants.Cycle("arpa", Classes, count, seed, (kind, r, work) =>
        {
            bool gzip = kind == "gzip corruption" || r.Next(4) == 0;
            string source = gzip ? fixtures.GzipArpa : fixtures.PlainArpa;
            byte[] bytes = kind == "gzip corruption" ? Corrupt(File.ReadAllBytes(source), r)
                : Encode(MutateText(kind, Decode(File.ReadAllBytes(source), gzip), r), gzip);
            string path = Path.Combine(work, gzip ? "lm.arpa.gz" : "lm.arpa");
            File.WriteAllBytes(path, bytes);
            return new Invocation(["transcribe", "--model", fixtures.TorchModel, "--audio", fixtures.Audio, "--lm", path,
                "--beam-width", "4"], path);
        });

    private static string MutateText(string kind, string text, Random r)
    {
        var lines = text.Split('\n').ToList();
        int[] countLines = [.. Enumerable.Range(0, lines.Count).Where(i => lines[i].StartsWith("ngram ", StringComparison.Ordinal))];
        int[] gramLines = [.. Enumerable.Range(0, lines.Count).Where(i => lines[i].Contains('\t') || (lines[i].Length > 0 && lines[i][0] == '-'))];
        switch (kind)
        {
            case "arpa counts":
            {
                int line = countLines[r.Next(countLines.Length)];
                string order = lines[line][6..lines[line].IndexOf('=')];
                long declared = long.Parse(lines[line][(lines[line].IndexOf('=') + 1)..].Trim());
                string[] values = [$"{declared + 1}", $"{declared - 1}", "2000000000", "-5", "0", "x", "99999999999999", $"{declared * 1000}"];
                lines[line] = r.Next(8) == 0 ? $"ngram {order}" : $"ngram {order}={values[r.Next(values.Length)]}";
                break;
            }
            case "arpa probabilities":
            {
                int line = gramLines[r.Next(gramLines.Length)];
                string[] fields = lines[line].Split('\t');
                string[] values = ["+5.0", "5", "0.5", "nan", "NaN", "inf", "+inf", "-inf", "1e40", "-1e40", "x", "", "-0"];
                fields[r.Next(2) == 0 || fields.Length < 3 ? 0 : fields.Length - 1] = values[r.Next(values.Length)];
                lines[line] = string.Join('\t', fields);
                break;
            }
            case "arpa lines":
            {
                int line = r.Next(lines.Count);
                switch (r.Next(4))
                {
                    case 0: lines.RemoveAt(line); break;
                    case 1: lines.Insert(line, lines[r.Next(lines.Count)]); break;
                    case 2: lines.RemoveRange(line, lines.Count - line); break;
                    default: lines[line] = lines[line].Replace('\t', ' ') + " extra"; break;
                }
                break;
            }
            default:
            {
                byte[] bytes = Encoding.UTF8.GetBytes(text);
                for (int f = 0, flips = 1 + r.Next(8); f < flips; f++)
                    bytes[r.Next(bytes.Length)] ^= (byte)(1 << r.Next(8));
                return Encoding.UTF8.GetString(bytes);
            }
        }
        return string.Join('\n', lines);
    }

    // Damage inside the deflate stream, the gzip header or the trailer, or a cut.
    private static byte[] Corrupt(byte[] gzip, Random r)
    {
        switch (r.Next(4))
        {
            case 0: return gzip[..r.Next(2, gzip.Length)];
            case 1: gzip[r.Next(2, 10)] ^= (byte)(1 << r.Next(8)); return gzip;
            case 2: gzip[gzip.Length - 1 - r.Next(8)] ^= 0xFF; return gzip;
            default:
                for (int f = 0, flips = 1 + r.Next(8); f < flips; f++)
                    gzip[r.Next(10, gzip.Length)] ^= (byte)(1 << r.Next(8));
                return gzip;
        }
    }

    private static string Decode(byte[] bytes, bool gzip)
    {
        if (!gzip)
            return Encoding.UTF8.GetString(bytes);
        using var stream = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static byte[] Encode(string text, bool gzip)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (!gzip)
            return bytes;
        var memory = new MemoryStream();
        using (var stream = new GZipStream(memory, CompressionLevel.Fastest))
            stream.Write(bytes);
        return memory.ToArray();
    }
}
