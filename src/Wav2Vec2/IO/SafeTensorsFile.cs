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
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_entries.TryGetValue(name, out SafeTensorsEntry? entry))
            throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");
        var tensor = new Tensor(entry.Shape, clear: false, pooled: false);
        var bytes = new ReadOnlySpan<byte>(_data + entry.Begin, checked((int)(entry.End - entry.Begin)));
        Span<float> target = tensor.Span;
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
                for (int i = 0; i < target.Length; i++)
                    target[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2)) << 16);
                break;
        }
        return tensor;
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

    private static (Dictionary<string, SafeTensorsEntry>, IReadOnlyDictionary<string, string>) ParseHeader(
        string path, ReadOnlySpan<byte> header, long dataLength)
    {
        var entries = new Dictionary<string, SafeTensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
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
                    foreach (JsonProperty item in property.Value.EnumerateObject())
                        metadata[item.Name] = item.Value.ToString();
                    continue;
                }
                entries[property.Name] = ParseEntry(path, property, dataLength);
            }
        }
        return (entries, metadata);
    }

    private static SafeTensorsEntry ParseEntry(string path, JsonProperty property, long dataLength)
    {
        string name = property.Name;
        try
        {
            JsonElement value = property.Value;
            string dtypeText = value.GetProperty("dtype").GetString() ?? "";
            if (!Enum.TryParse(dtypeText, out SafeTensorsDType dtype) || !Enum.IsDefined(dtype))
                throw new InvalidDataException($"{path}: tensor '{name}' has unsupported dtype {dtypeText} (F32, F16 and BF16 are read)");
            int[] shape = value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            long[] offsets = value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            long elements = shape.Aggregate(1L, (a, b) => a * b);
            int elementSize = dtype == SafeTensorsDType.F32 ? 4 : 2;
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength
                || shape.Any(d => d < 0) || offsets[1] - offsets[0] != elements * elementSize)
                throw new InvalidDataException(
                    $"{path}: tensor '{name}' has inconsistent shape/offsets ({Tensor.FormatShape(shape)}, [{string.Join(", ", offsets)}], data {dataLength} bytes)");
            return new SafeTensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: tensor '{name}' has a malformed header entry ({e.Message})");
        }
    }
}
