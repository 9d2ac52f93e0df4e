using System.IO.Compression;

namespace Wav2Vec2.Fuzz;

/// <summary>
/// Mutants of a torch.save checkpoint (pytorch_model.bin, a zip around data.pkl): pickle opcodes replaced, inserted or
/// cut, length fields set to extremes, STACK_GLOBAL on non-strings, and archive-level damage (a second data.pkl, a
/// missing or truncated storage, a big-endian byteorder, bit flips in the zip).
/// </summary>
public static class PickleMutants
{
    private static readonly string[] Classes = ["pickle opcodes", "pickle lengths", "pickle truncation", "archive"];

    // Opcodes torch.save emits and some it never does (GLOBAL, REDUCE, BUILD, STACK_GLOBAL, INST, OBJ, EXT1...).
    private static readonly byte[] Opcodes = [.. "(}])tqrhjXKMJN.QRbsuaecGiop"u8.ToArray(), 0x80, 0x82, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x8d, 0x93, 0x94, 0x95];

    /// <summary><paramref name="count"/> mutants drawn from <paramref name="seed"/>, cycling through the classes.</summary>
    public static IEnumerable<Mutant> Generate(Fixtures fixtures, int count, int seed)
        => Mutants.Cycle("pickle", Classes, count, seed, (kind, r, work) =>
        {
            string model = Fixtures.CopyModel(fixtures.TorchModel, work);
            string path = Path.Combine(model, "pytorch_model.bin");
            if (kind == "archive")
                MutateArchive(path, r);
            else
                Rewrite(path, (name, bytes) => name.EndsWith("/data.pkl", StringComparison.Ordinal) ? MutatePickle(kind, bytes, r) : bytes);
            return fixtures.Logits(model, work, model);
        });

    internal static byte[] MutatePickle(string kind, byte[] pickle, Random r)
    {
        var bytes = new List<byte>(pickle);
        int at = r.Next(bytes.Count);
        switch (kind)
        {
            case "pickle opcodes":
                if (r.Next(2) == 0)
                    bytes[at] = Opcodes[r.Next(Opcodes.Length)];
                else
                    bytes.InsertRange(at, r.Next(3) == 0 ? [(byte)'K', 1, (byte)'K', 2, 0x93] : [Opcodes[r.Next(Opcodes.Length)]]);
                break;
            case "pickle lengths":
            {
                // The 4-byte length after a BINUNICODE / LONG_BINPUT / BINSTRING, or the 8-byte one after BINUNICODE8.
                int[] opcodes = [.. Enumerable.Range(0, bytes.Count - 5).Where(i => bytes[i] is (byte)'X' or (byte)'r' or (byte)'j' or (byte)'T')];
                uint[] lengths = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, (uint)r.Next(), 0];
                if (opcodes.Length > 0)
                    BitConverter.GetBytes(lengths[r.Next(lengths.Length)]).CopyTo(pickle, opcodes[r.Next(opcodes.Length)] + 1);
                else
                    bytes.InsertRange(at, [0x8d, .. BitConverter.GetBytes(long.MaxValue - r.Next())]);
                return opcodes.Length > 0 ? pickle : [.. bytes];
            }
            default:
                bytes.RemoveRange(at, r.Next(bytes.Count - at));
                break;
        }
        return [.. bytes];
    }

    private static void MutateArchive(string path, Random r)
    {
        switch (r.Next(5))
        {
            case 0:
                Rewrite(path, (_, bytes) => bytes, extra: ("archive/data.pkl", [0x80, 2, (byte)'}', (byte)'q', 0, (byte)'.']));
                break;
            case 1:
                Rewrite(path, (name, bytes) => name.Contains("/data/", StringComparison.Ordinal) && r.Next(3) == 0 ? bytes[..r.Next(bytes.Length)] : bytes);
                break;
            case 2:
                Rewrite(path, (name, bytes) => name.EndsWith("/byteorder", StringComparison.Ordinal) ? "big"u8.ToArray() : bytes);
                break;
            case 3:
                Rewrite(path, (name, bytes) => name.Contains("/data/", StringComparison.Ordinal) && r.Next(4) == 0 ? null : bytes);
                break;
            default:
            {
                byte[] file = File.ReadAllBytes(path);
                for (int f = 0, flips = 1 + r.Next(16); f < flips; f++)
                    file[r.Next(file.Length)] ^= (byte)(1 << r.Next(8));
                File.WriteAllBytes(path, file);
                break;
            }
        }
    }

    // Rewrites the zip entry by entry through `change` (null drops the entry), stored uncompressed as torch.save does.
    internal static void Rewrite(string path, Func<string, byte[], byte[]?> change, (string Name, byte[] Bytes)? extra = null)
    {
        var entries = new List<(string, byte[])>();
        using (ZipArchive source = ZipFile.OpenRead(path))
            foreach (ZipArchiveEntry entry in source.Entries)
            {
                using var stream = entry.Open();
                var memory = new MemoryStream();
                stream.CopyTo(memory);
                if (change(entry.FullName, memory.ToArray()) is byte[] bytes)
                    entries.Add((entry.FullName, bytes));
            }
        if (extra != null)
            entries.Add(extra.Value);
        File.Delete(path);
        using ZipArchive target = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using Stream stream = target.CreateEntry(name, CompressionLevel.NoCompression).Open();
            stream.Write(bytes);
        }
    }
}
