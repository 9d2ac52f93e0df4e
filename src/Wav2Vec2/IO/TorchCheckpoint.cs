using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>
/// Reads a PyTorch checkpoint written by torch.save, in its zip format (PyTorch 1.6 on: pytorch_model.bin) or its legacy
/// format (a row of pickles followed by the raw storages), without executing anything: a restricted unpickler rebuilds
/// only dictionaries, tuples, lists, scalars and tensors from storages, plus inert data objects when the caller allows
/// them (fairseq's configs). Any other global (a class, a function such as os.system) or an unsupported opcode is refused
/// with <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class TorchCheckpoint : ITensorSource
{
    // torch.save's legacy files open with pickle(0x1950a86a20f9469cfc6c): PROTO 2, LONG1 of ten bytes.
    private static readonly byte[] LegacyMagic = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
    private static readonly byte[] ZipMagic = [0x50, 0x4b, 0x03, 0x04];

    private static readonly HashSet<string> TorchCallables =
    [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._tensor._rebuild_from_type_v2", "torch.nn.parameter.Parameter",
        "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
        "torch.LongStorage", "torch.IntStorage", "torch.BoolStorage", "torch.ByteStorage",
    ];

    private readonly StorageReader _storages;
    private readonly Dictionary<string, TensorRecord> _tensors;

    private TorchCheckpoint(string path, StorageReader storages, Dictionary<string, TensorRecord> tensors)
    {
        Path = path;
        _storages = storages;
        _tensors = tensors;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => _tensors.Keys;

    /// <summary>
    /// Opens a checkpoint whose root is a state dict (or holds one dictionary of tensors one level down, e.g.
    /// {"state_dict": {...}}) and reads its tensor index; tensor data is read on demand.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a torch.save file, or a pickle this reader refuses.</exception>
    public static TorchCheckpoint Open(string path) => Open(path, _ => false, root =>
    {
        if (root is not PickleDict dict)
            throw new InvalidDataException($"{path}: the checkpoint is not a dictionary of tensors");
        return dict.Items.Count > 0 && dict.Items.All(item => item.Value is PickleDict)
            ? dict.Items.Select(item => (PickleDict)item.Value).OrderByDescending(d => d.Items.Count).First()
            : dict;
    }, out _);

    /// <summary>
    /// Opens a checkpoint, keeping the whole unpickled <paramref name="root"/>: <paramref name="dataClasses"/> are the
    /// classes rebuilt as inert <see cref="PickleObject"/>s, and <paramref name="stateDict"/> picks the dictionary
    /// whose tensors this source serves.
    /// </summary>
    public static TorchCheckpoint Open(string path, Func<PickleGlobal, bool> dataClasses, Func<object, PickleDict> stateDict, out object root)
    {
        var rules = new PickleRules(TorchCallables, Rebuild, PersistentId, dataClasses);
        byte[] head = new byte[LegacyMagic.Length];
        using (FileStream probe = File.OpenRead(path))
            head = head[..probe.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
        StorageReader storages = head.AsSpan().StartsWith(ZipMagic) ? ZipStorages.Open(path, rules, out root)
            : head.AsSpan().SequenceEqual(LegacyMagic) ? LegacyStorages.Open(path, rules, out root)
            : throw new InvalidDataException($"{path}: not a PyTorch checkpoint (neither torch.save's zip format nor its legacy format)");
        try
        {
            var tensors = new Dictionary<string, TensorRecord>(StringComparer.Ordinal);
            foreach (var (key, value) in stateDict(root).Items)
                if (key is string name && value is TensorRecord tensor)
                    tensors[name] = Checked(path, storages, name, tensor);
            return new TorchCheckpoint(path, storages, tensors);
        }
        catch
        {
            storages.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public int[] Shape(string name) => _tensors[name].Shape;

    /// <inheritdoc/>
    public Tensor Read(string name)
    {
        TensorRecord record = _tensors[name];
        StorageRecord storage = record.Storage;
        byte[] bytes = _storages.Read(storage.Key);
        int size = storage.ElementSize;
        if (bytes.Length < storage.Count * size)
            throw new InvalidDataException($"{Path}: storage {storage.Key} of '{name}' is truncated");
        var tensor = new Tensor(record.Shape, clear: false, pooled: false);
        Span<float> target = tensor.Span;
        int rank = record.Shape.Length;
        var index = new int[rank];
        for (int i = 0; i < target.Length; i++)
        {
            long at = record.Offset;
            for (int d = 0; d < rank; d++)
                at += (long)index[d] * record.Stride[d];
            target[i] = storage.DType switch
            {
                "FloatStorage" => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(at * 4))),
                "HalfStorage" => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)(at * 2)))),
                "BFloat16Storage" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)(at * 2))) << 16),
                _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan((int)(at * 8))),
            };
            for (int d = rank - 1; d >= 0 && ++index[d] == record.Shape[d]; d--)
                index[d] = 0;
        }
        return tensor;
    }

    /// <inheritdoc/>
    public void Dispose() => _storages.Dispose();

    // A storage: ('storage', torch.<T>Storage, key, location, count) in the zip format, the same and a view (None for a
    // whole storage) in the legacy one.
    private static object? PersistentId(object pid) =>
        pid is object[] { Length: 5 or 6 } t && t[0] is "storage" && t[1] is PickleGlobal type && t[2] is string key && t[4] is long count
            && (t.Length == 5 || t[5] is PickleNone)
            ? new StorageRecord(type.Name, key, count) : null;

    private static object? Rebuild(PickleGlobal global, object[] a) => global.FullName switch
    {
        "collections.OrderedDict" => new PickleDict(),
        "torch._utils._rebuild_tensor_v2" when a.Length >= 4 && a[0] is StorageRecord storage && a[1] is long offset
            && a[2] is object[] shape && a[3] is object[] stride && shape.All(IsDimension) && stride.All(d => d is long)
            => new TensorRecord(storage, offset, [.. shape.Select(d => (int)(long)d)], [.. stride.Select(d => (long)d)]),
        "torch._utils._rebuild_parameter" when a.Length >= 1 => a[0],
        // One level only: a chain of nested rebuilds would recurse as deep as the pickle is long.
        "torch._tensor._rebuild_from_type_v2" when a.Length >= 3 && a[0] is PickleGlobal inner && inner != global && a[2] is object[] innerArgs
            => Rebuild(inner, innerArgs),
        _ => null,
    };

    private static bool IsDimension(object d) => d is long value && value is >= 0 and <= int.MaxValue;

    /// <summary>Where the storages' bytes are: archive entries, or stretches of a legacy file.</summary>
    private abstract class StorageReader : IDisposable
    {
        public abstract long Length(string key);

        public abstract byte[] Read(string key);

        public abstract void Dispose();
    }

    private sealed class ZipStorages(string path, ZipArchive zip, string prefix) : StorageReader
    {
        public static ZipStorages Open(string path, PickleRules rules, out object root)
        {
            ZipArchive zip;
            try
            {
                zip = ZipFile.OpenRead(path);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}: corrupt zip archive ({e.Message})");
            }
            try
            {
                List<ZipArchiveEntry> pickles = Entries(path, zip).Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)
                    && e.FullName.Count(c => c == '/') == 1).ToList();
                if (pickles.Count != 1)
                    throw new InvalidDataException(pickles.Count == 0
                        ? $"{path}: no data.pkl in the archive (not a torch.save checkpoint)"
                        : $"{path}: the archive holds {pickles.Count} data.pkl entries ({string.Join(", ", pickles.Take(3).Select(e => e.FullName))}); a torch.save checkpoint has one");
                ZipArchiveEntry pickle = pickles[0];
                string prefix = pickle.FullName[..^"data.pkl".Length];
                ZipArchiveEntry? byteOrder = zip.GetEntry(prefix + "byteorder");
                if (byteOrder != null && Encoding.ASCII.GetString(ReadAll(path, byteOrder)).Trim() != "little")
                    throw new InvalidDataException($"{path}: big-endian checkpoints are not supported");
                root = new RestrictedUnpickler(new MemoryStream(ReadAll(path, pickle)), path, rules).Load();
                return new ZipStorages(path, zip, prefix);
            }
            catch
            {
                zip.Dispose();
                throw;
            }
        }

        public override long Length(string key) => zip.GetEntry(prefix + "data/" + key)?.Length ?? -1;

        public override byte[] Read(string key) => ReadAll(path, zip.GetEntry(prefix + "data/" + key)!);

        public override void Dispose() => zip.Dispose();

        // Every read of an archive entry goes through here, so that a corrupt entry is an error naming the file.
        // .NET reads the central directory on first use, and names no file when it is damaged.
        private static IReadOnlyCollection<ZipArchiveEntry> Entries(string path, ZipArchive zip)
        {
            try
            {
                return zip.Entries;
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}: corrupt zip archive ({e.Message})");
            }
        }

        private static byte[] ReadAll(string path, ZipArchiveEntry entry)
        {
            try
            {
                using Stream stream = entry.Open();
                var memory = new MemoryStream();
                stream.CopyTo(memory);
                return memory.ToArray();
            }
            catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
            {
                throw new InvalidDataException($"{path}: archive entry '{entry.FullName}' cannot be read (corrupt or truncated archive)");
            }
        }
    }

    /// <summary>
    /// torch.save's legacy format: pickles of the magic number, the protocol version (1001) and the system's sizes, the
    /// object, the sorted list of storage keys; then per key an int64 element count and the storage's raw bytes.
    /// </summary>
    private sealed class LegacyStorages(string path, FileStream file, Dictionary<string, (long Offset, long Bytes)> storages) : StorageReader
    {
        public static LegacyStorages Open(string path, PickleRules rules, out object root)
        {
            FileStream file = File.OpenRead(path);
            try
            {
                var stream = new BufferedStream(file);
                var unpickler = new RestrictedUnpickler(stream, path, rules);
                unpickler.Load();                                                    // the magic number, checked by the caller
                if (unpickler.Load() is not 1001L)
                    throw new InvalidDataException($"{path}: unknown legacy torch.save protocol version");
                if (unpickler.Load() is not PickleDict system || system.Get("little_endian") is not true)
                    throw new InvalidDataException($"{path}: big-endian checkpoints are not supported");
                root = unpickler.Load();
                if (unpickler.Load() is not List<object> keys || keys.Any(k => k is not string))
                    throw new InvalidDataException($"{path}: the legacy checkpoint's storage list is malformed");
                Dictionary<string, int> elementSizes = StorageElementSizes(root);
                var storages = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
                long position = stream.Position;
                var header = new byte[8];
                foreach (string key in keys.Cast<string>())
                {
                    file.Position = position;
                    if (file.ReadAtLeast(header, 8, throwOnEndOfStream: false) < 8)
                        throw new InvalidDataException($"{path}: the legacy checkpoint ends before storage {RestrictedUnpickler.Printable(key)}");
                    long count = BinaryPrimitives.ReadInt64LittleEndian(header);
                    int size = elementSizes.GetValueOrDefault(key, 0);
                    if (size == 0 || count < 0 || count > (file.Length - position - 8) / size)
                        throw new InvalidDataException($"{path}: storage {RestrictedUnpickler.Printable(key)} declares {count} elements, more than the file holds");
                    storages[key] = (position + 8, count * size);
                    position += 8 + count * size;
                }
                return new LegacyStorages(path, file, storages);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        public override long Length(string key) => storages.TryGetValue(key, out var s) ? s.Bytes : -1;

        public override byte[] Read(string key)
        {
            (long offset, long bytes) = storages[key];
            if (bytes > Array.MaxLength)
                throw new InvalidDataException($"{path}: storage {key} is larger than 2 GB");
            var data = new byte[bytes];
            file.Position = offset;
            file.ReadExactly(data);
            return data;
        }

        public override void Dispose() => file.Dispose();

        // Every storage the object refers to, by key, with its element size (only the referring tensors know the type).
        private static Dictionary<string, int> StorageElementSizes(object root)
        {
            var sizes = new Dictionary<string, int>(StringComparer.Ordinal);
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            var pending = new Stack<object>([root]);
            while (pending.TryPop(out object? value))
            {
                if (!seen.Add(value))
                    continue;
                switch (value)
                {
                    case TensorRecord t: sizes[t.Storage.Key] = t.Storage.ElementSize; break;
                    case StorageRecord s: sizes[s.Key] = s.ElementSize; break;
                    case PickleDict d: foreach (var (k, v) in d.Items) { pending.Push(k); pending.Push(v); } break;
                    case List<object> l: l.ForEach(pending.Push); break;
                    case object[] a: Array.ForEach(a, pending.Push); break;
                    case PickleObject o: Array.ForEach(o.Arguments, pending.Push); if (o.State != null) pending.Push(o.State); break;
                }
            }
            return sizes;
        }
    }

    // A tensor's shape, strides and offset must stay inside its storage, and the storage inside its archive entry, before
    // anything is allocated from them.
    private static TensorRecord Checked(string path, StorageReader storages, string name, TensorRecord record)
    {
        StorageRecord storage = record.Storage;
        InvalidDataException Bad(string what) => new($"{path}: tensor '{RestrictedUnpickler.Printable(name)}' {what}");
        if (!ReadableStorages.Contains(storage.DType))
            throw Bad($"has unsupported storage type {storage.DType}");
        long bytes = storages.Length(storage.Key);
        if (bytes < 0)
            throw Bad($"has no storage entry data/{RestrictedUnpickler.Printable(storage.Key)}");
        if (storage.Count < 0 || storage.Count > bytes / storage.ElementSize)
            throw Bad($"declares a storage of {storage.Count} elements but data/{storage.Key} holds {bytes} bytes");
        if (record.Stride.Length != record.Shape.Length || record.Shape.Any(d => d < 0) || record.Stride.Any(d => d < 0) || record.Offset < 0)
            throw Bad("has a malformed shape, stride or offset");
        if (record.Shape.Contains(0))
            return record;
        // In 128 bits, neither the element count nor the last element's index can overflow.
        Int128 elements = 1, last = record.Offset;
        for (int d = 0; d < record.Shape.Length; d++)
        {
            elements *= record.Shape[d];
            last += (Int128)(record.Shape[d] - 1) * record.Stride[d];
        }
        if (elements > storage.Count || last >= storage.Count)
            throw Bad($"reads outside its storage of {storage.Count} elements (shape {Tensor.FormatShape(record.Shape)}, offset {record.Offset})");
        return record;
    }

    private static readonly HashSet<string> ReadableStorages = ["FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage"];

    internal sealed record StorageRecord(string DType, string Key, long Count)
    {
        public int ElementSize => DType switch { "DoubleStorage" or "LongStorage" => 8, "HalfStorage" or "BFloat16Storage" => 2, _ => 4 };
    }

    internal sealed record TensorRecord(StorageRecord Storage, long Offset, int[] Shape, long[] Stride);
}
