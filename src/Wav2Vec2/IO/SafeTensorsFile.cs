using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>Element type of a stored tensor.</summary>
internal enum SafeTensorsDType
{
    /// <summary>IEEE single precision.</summary>
    F32,
    /// <summary>IEEE half precision (converted to float32 on read).</summary>
    F16,
    /// <summary>bfloat16 (converted to float32 on read).</summary>
    BF16,
    /// <summary>Signed bytes: the quantised weights of an int8 model (read only as such, with their scales).</summary>
    I8,
}

/// <summary>Name, type, shape and byte range of one tensor in a safetensors file.</summary>
internal sealed record SafeTensorsEntry(string Name, SafeTensorsDType DType, int[] Shape, long Begin, long End);

/// <summary>
/// Reader of the safetensors format (an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the raw little-endian data). The file is memory-mapped; nothing in it is executed.
/// </summary>
internal sealed unsafe class SafeTensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L << 20;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _data;
    private readonly Dictionary<string, SafeTensorsEntry> _entries;
    private bool _disposed;

    private SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* data,
        Dictionary<string, SafeTensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _data = data;
        _entries = entries;
        Metadata = metadata;
    }

    /// <summary>The file this reader maps.</summary>
    public string Path { get; }

    /// <summary>The optional "__metadata__" string map of the header.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>All tensors, by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorsEntry> Entries => _entries;

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file.</exception>
    public static SafeTensorsFile Open(string path)
    {
        long fileLength;
        using (FileStream stream = File.OpenRead(path))
            fileLength = stream.Length;   // the target's length: FileInfo gives a symbolic link's own (hub cache snapshots)
        if (fileLength < 8)
            throw new InvalidDataException($"{path}: not a safetensors file (only {fileLength} bytes)");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(pointer, 8));
            if (headerLength > (ulong)Math.Min(MaxHeaderBytes, fileLength - 8))
                throw new InvalidDataException($"{path}: not a safetensors file (header length {headerLength} exceeds the file)");
            var header = new ReadOnlySpan<byte>(pointer + 8, (int)headerLength);
            long dataLength = fileLength - 8 - (long)headerLength;
            (var entries, var metadata) = ParseHeader(path, header, dataLength);
            return new SafeTensorsFile(path, map, view, pointer + 8 + (long)headerLength, entries, metadata);
        }
        catch
        {
            view?.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>True when the file holds a tensor of that name.</summary>
    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>Reads tensor <paramref name="name"/> as float32 (converting F16/BF16).</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    public Tensor Read(string name)
    {
        var tensor = new Tensor(Entry(name).Shape, clear: false, pooled: false);
        ReadInto(name, tensor.Span);
        return tensor;
    }

    /// <summary>Reads tensor <paramref name="name"/> into <paramref name="target"/> (of its element count) as float32.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    public void ReadInto(string name, Span<float> target)
    {
        SafeTensorsEntry entry = Entry(name);
        if (entry.DType == SafeTensorsDType.I8)
            throw new InvalidDataException($"{Path}: '{name}' is an int8 tensor (of an int8 model); it is read with its scales, not as float32");
        var bytes = new ReadOnlySpan<byte>(_data + entry.Begin, checked((int)(entry.End - entry.Begin)));
        if (bytes.Length != target.Length * (entry.DType == SafeTensorsDType.F32 ? 4 : 2))
            throw new ArgumentException($"{Path}: '{name}' holds {bytes.Length} bytes, not {target.Length} values", nameof(target));
        switch (entry.DType)
        {
            case SafeTensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(target);
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < target.Length; i++)
                    target[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2)));
                break;
            case SafeTensorsDType.BF16:
                Kernels.BFloat16.Widen(MemoryMarshal.Cast<byte, ushort>(bytes), target);
                break;
        }
    }

    /// <summary>Reads an I8 tensor's values.</summary>
    /// <exception cref="InvalidDataException">The tensor is not I8.</exception>
    public sbyte[] ReadInt8(string name)
    {
        SafeTensorsEntry entry = Entry(name);
        if (entry.DType != SafeTensorsDType.I8)
            throw new InvalidDataException($"{Path}: '{name}' is {entry.DType}, not int8");
        return new ReadOnlySpan<sbyte>(_data + entry.Begin, checked((int)(entry.End - entry.Begin))).ToArray();
    }

    /// <summary>Reads a BF16 tensor's values as stored.</summary>
    /// <exception cref="InvalidDataException">The tensor is not BF16.</exception>
    public ushort[] ReadBf16(string name)
    {
        SafeTensorsEntry entry = Entry(name);
        if (entry.DType != SafeTensorsDType.BF16)
            throw new InvalidDataException($"{Path}: '{name}' is {entry.DType}, not bf16");
        return MemoryMarshal.Cast<byte, ushort>(new ReadOnlySpan<byte>(_data + entry.Begin, checked((int)(entry.End - entry.Begin)))).ToArray();
    }

    private SafeTensorsEntry Entry(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _entries.TryGetValue(name, out SafeTensorsEntry? entry) ? entry
            : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }

    // The one validation layer of the header: every field is checked for its JSON kind and range here, so that no
    // raw System.Text.Json or arithmetic exception escapes, and the tensors must tile the data section exactly (as the
    // reference reader requires): a header length off by a byte or a stray gap shifts every weight, and is refused.
    private static (Dictionary<string, SafeTensorsEntry>, IReadOnlyDictionary<string, string>) ParseHeader(
        string path, ReadOnlySpan<byte> header, long dataLength)
    {
        var entries = new Dictionary<string, SafeTensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new InvalidDataException($"{path}: safetensors header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: safetensors header is not valid JSON ({e.Message})");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: safetensors header is not a JSON object");
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object
                        || property.Value.EnumerateObject().Any(item => item.Value.ValueKind != JsonValueKind.String))
                        throw new InvalidDataException($"{path}: safetensors __metadata__ must be an object of strings, got {Excerpt(property.Value)}");
                    foreach (JsonProperty item in property.Value.EnumerateObject())
                        metadata[item.Name] = item.Value.GetString()!;
                    continue;
                }
                if (!entries.TryAdd(property.Name, ParseEntry(path, property, dataLength)))
                    throw new InvalidDataException($"{path}: tensor '{property.Name}' is listed twice in the header");
            }
        }
        CheckTiling(path, entries.Values, dataLength);
        return (entries, metadata);
    }

    private static SafeTensorsEntry ParseEntry(string path, JsonProperty property, long dataLength)
    {
        string name = property.Name;
        JsonElement value = property.Value;
        InvalidDataException Malformed(string what) => new($"{path}: tensor '{name}' has a malformed header entry ({what})");
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed($"{Excerpt(value)} is not an object");
        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Malformed("no dtype string");
        SafeTensorsDType dtype = dtypeElement.GetString() switch
        {
            "F32" => SafeTensorsDType.F32,
            "F16" => SafeTensorsDType.F16,
            "BF16" => SafeTensorsDType.BF16,
            "I8" => SafeTensorsDType.I8,
            var other => throw new InvalidDataException(
                $"{path}: tensor '{name}' has unsupported dtype {other} (F32, F16, BF16 and I8 are read)"),
        };
        long[] shape = Integers(value, "shape", Malformed);
        long[] offsets = Integers(value, "data_offsets", Malformed);
        int elementSize = dtype switch { SafeTensorsDType.F32 => 4, SafeTensorsDType.I8 => 1, _ => 2 };
        // Elements are counted only up to what the data section can hold, so that no product of dimensions overflows.
        long elements = 1;
        foreach (long d in shape)
        {
            if (d < 0 || d > int.MaxValue)
                elements = -1;
            else if (elements > 0)
                elements = d == 0 ? 0 : elements > dataLength / d ? dataLength + 1 : elements * d;
        }
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength
            || elements < 0 || elements > Array.MaxLength || offsets[1] - offsets[0] != elements * elementSize)
            throw new InvalidDataException(
                $"{path}: tensor '{name}' has inconsistent shape/offsets (({Join(shape)}), [{Join(offsets)}], data {dataLength} bytes)");
        return new SafeTensorsEntry(name, dtype, [.. shape.Select(d => (int)d)], offsets[0], offsets[1]);
    }

    private static long[] Integers(JsonElement entry, string field, Func<string, InvalidDataException> malformed)
    {
        if (!entry.TryGetProperty(field, out JsonElement array) || array.ValueKind != JsonValueKind.Array)
            throw malformed($"no {field} array");
        return [.. array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) ? v
            : throw malformed($"{field} holds {Excerpt(e)}, not an integer"))];
    }

    private static void CheckTiling(string path, IEnumerable<SafeTensorsEntry> entries, long dataLength)
    {
        long end = 0;
        foreach (SafeTensorsEntry entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin != end)
                throw new InvalidDataException(entry.Begin < end
                    ? $"{path}: tensor '{entry.Name}' overlaps another tensor's data (bytes {entry.Begin}-{end})"
                    : $"{path}: bytes {end}-{entry.Begin} of the data section belong to no tensor (a shifted or corrupt header)");
            end = entry.End;
        }
        if (end != dataLength)
            throw new InvalidDataException(
                $"{path}: the tensors end at byte {end} of a {dataLength}-byte data section (a shifted header or a truncated or padded file)");
    }

    private static string Join(long[] values) => values.Length <= 8 ? string.Join(", ", values) : string.Join(", ", values[..8]) + ", ...";

    private static string Excerpt(JsonElement element)
    {
        string text = element.GetRawText();
        return text.Length > 40 ? text[..40] + "..." : text;
    }
}
