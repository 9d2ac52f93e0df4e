using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>NumPy's .npy format for float32 tensors (version 1.0, little-endian '&lt;f4', C order).</summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes <paramref name="tensor"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Write(string path, Tensor tensor) => AtomicFile.Write(path, stream => Write(stream, tensor));

    /// <summary>Writes <paramref name="tensor"/> to a stream.</summary>
    public static void Write(Stream stream, Tensor tensor)
    {
        WriteHeader(stream, tensor.ShapeArray, 0);
        stream.Write(MemoryMarshal.AsBytes(tensor.Span));
    }

    /// <summary>
    /// Writes a (rows, <paramref name="width"/>) array whose rows come in blocks, without holding them all:
    /// <paramref name="produce"/> is given an append function and calls it with blocks of whole rows, in order. The
    /// row count is patched into the header at the end; the file appears only once complete (temporary file + rename).
    /// Returns the number of rows.
    /// </summary>
    public static int WriteRows(string path, int width, Action<Action<ReadOnlySpan<float>>> produce)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        long values = 0;
        AtomicFile.Write(path, stream =>
        {
            WriteHeader(stream, [0, width], StreamingHeaderLength);
            produce(block =>
            {
                if (block.Length % width != 0)
                    throw new ArgumentException($"a block of {block.Length} values is not whole rows of {width}");
                stream.Write(MemoryMarshal.AsBytes(block));
                values += block.Length;
            });
            stream.Position = 0;
            WriteHeader(stream, [checked((int)(values / width)), width], StreamingHeaderLength);
        });
        return (int)(values / width);
    }

    // Room for any (rows, width) shape, so that the final header overwrites the placeholder exactly.
    private const int StreamingHeaderLength = 128;

    // Version 1.0 header, padded to a multiple of 64 bytes (or to `length` when not 0).
    private static void WriteHeader(Stream stream, int[] shapeDims, int length)
    {
        string shape = shapeDims.Length switch
        {
            0 => "()",
            1 => $"({shapeDims[0]},)",
            _ => "(" + string.Join(", ", shapeDims) + ")",
        };
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        int total = Magic.Length + 2 + 2 + header.Length + 1;
        int padded = length > 0 ? length - Magic.Length - 4 - 1 : header.Length + (64 - total % 64) % 64;
        header = header.PadRight(padded) + "\n";
        stream.Write(Magic);
        stream.Write([1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
    }

    /// <summary>Reads a float32 C-order .npy file.</summary>
    /// <exception cref="InvalidDataException">Not a .npy file, or not little-endian float32 in C order.</exception>
    public static Tensor Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a .npy file");
        int headerLength = bytes[6] == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = (bytes[6] == 1 ? 10 : 12) + headerLength;
        string header = Encoding.ASCII.GetString(bytes, bytes[6] == 1 ? 10 : 12, headerLength);
        Match match = HeaderPattern().Match(header);
        if (!match.Success || header.Contains("True", StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: only little-endian float32 C-order arrays are read ({header.Trim()})");
        int[] shape = match.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var tensor = new Tensor(shape, clear: false, pooled: false);
        if (bytes.Length - start < 4L * tensor.Length)
            throw new InvalidDataException($"{path}: truncated .npy data");
        MemoryMarshal.Cast<byte, float>(bytes.AsSpan(start, 4 * tensor.Length)).CopyTo(tensor.Span);
        return tensor;
    }

    [GeneratedRegex(@"'descr':\s*'<f4'.*'shape':\s*\(([^)]*)\)")]
    private static partial Regex HeaderPattern();
}
