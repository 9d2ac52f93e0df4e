using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>A tensor to write: its safetensors dtype, shape, size in bytes and how to write its data.</summary>
internal sealed record StoredTensor(string Name, string DType, int[] Shape, long Bytes, Action<Stream> WriteData)
{
    /// <summary>A float32 tensor.</summary>
    public static StoredTensor Float32(string name, Tensor tensor) =>
        new(name, "F32", tensor.ShapeArray, 4L * tensor.Length, stream => stream.Write(MemoryMarshal.AsBytes(tensor.Span)));

    /// <summary>bfloat16 values as stored (a bf16 model's linear weight).</summary>
    public static StoredTensor BFloat16(string name, ushort[] values, int[] shape) =>
        new(name, "BF16", shape, 2L * values.Length, stream => stream.Write(MemoryMarshal.AsBytes(values.AsSpan())));

    /// <summary>Signed bytes (an int8 model's quantised weight).</summary>
    public static StoredTensor Int8(string name, sbyte[] values, int[] shape) =>
        new(name, "I8", shape, values.Length, stream => stream.Write(MemoryMarshal.AsBytes(values.AsSpan())));
}

/// <summary>Writes tensors in the safetensors format, atomically (temporary file, then rename).</summary>
internal static class SafeTensorsWriter
{
    /// <summary>Writes float32 <paramref name="tensors"/> (name, tensor) and optional string metadata to <paramref name="path"/>.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(t => StoredTensor.Float32(t.Name, t.Tensor)), metadata);

    /// <summary>Writes <paramref name="tensors"/> and optional string metadata to <paramref name="path"/>; wider
    /// elements first, so that every tensor's data stays aligned to its element size.</summary>
    public static void Write(string path, IEnumerable<StoredTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.OrderBy(t => t.DType switch { "I8" => 2, "BF16" or "F16" => 1, _ => 0 }).ToList();
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
            foreach (StoredTensor tensor in list)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType);
                json.WriteStartArray("shape");
                foreach (int dim in tensor.Shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += tensor.Bytes);
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
            foreach (StoredTensor tensor in list)
                tensor.WriteData(stream);
        });
    }
}
