using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>Writes float32 tensors in the safetensors format, atomically (temporary file, then rename).</summary>
internal static class SafeTensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> (name, tensor) and optional string metadata to <paramref name="path"/>.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata != null)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach ((string name, Tensor tensor) in list)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int dim in tensor.Shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += 4L * tensor.Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // The data section starts 8-byte aligned: pad the header with spaces, as the reference writer does.
        while (header.Length % 8 != 0)
            header.WriteByte((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            header.Position = 0;
            header.CopyTo(stream);
            // .NET runs on little-endian hosts only in practice; the format is little-endian.
            foreach ((_, Tensor tensor) in list)
                stream.Write(MemoryMarshal.AsBytes(tensor.Span));
        });
    }
}
