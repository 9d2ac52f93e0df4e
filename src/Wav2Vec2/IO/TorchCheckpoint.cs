using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>
/// Reads a PyTorch checkpoint in torch.save's zip format (pytorch_model.bin) without executing anything: a restricted
/// unpickler rebuilds only dictionaries, tuples, lists, scalars and tensors from storages. Any other global (a class,
/// a function such as os.system) or an unsupported opcode is refused with <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class TorchCheckpoint : ITensorSource
{
    private readonly ZipArchive _zip;
    private readonly string _prefix;
    private readonly Dictionary<string, TensorRecord> _tensors;

    private TorchCheckpoint(string path, ZipArchive zip, string prefix, Dictionary<string, TensorRecord> tensors)
    {
        Path = path;
        _zip = zip;
        _prefix = prefix;
        _tensors = tensors;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => _tensors.Keys;

    /// <summary>Opens a checkpoint and reads its tensor index (the pickle); tensor data is read on demand.</summary>
    /// <exception cref="InvalidDataException">Not a torch.save zip, or a pickle this reader refuses.</exception>
    public static TorchCheckpoint Open(string path)
    {
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException)
        {
            throw new InvalidDataException(
                $"{path}: not a zip-format PyTorch checkpoint (legacy torch.save files before PyTorch 1.6 are not supported)");
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
            if (byteOrder != null && ReadText(path, byteOrder).Trim() != "little")
                throw new InvalidDataException($"{path}: big-endian checkpoints are not supported");
            byte[] bytes = ReadAll(path, pickle);
            object root = new RestrictedUnpickler(bytes, path).Load();
            var tensors = new Dictionary<string, TensorRecord>(StringComparer.Ordinal);
            if (root is not PickleDict dict)
                throw new InvalidDataException($"{path}: the checkpoint is not a dictionary of tensors");
            // Some checkpoints nest the weights one level down (e.g. {"state_dict": {...}} or {"model": {...}}).
            if (dict.Items.Count > 0 && dict.Items.All(item => item.Value is PickleDict))
                dict = dict.Items.Select(item => (PickleDict)item.Value).OrderByDescending(d => d.Items.Count).First();
            foreach (var (key, value) in dict.Items)
                if (key is string name && value is TensorRecord tensor)
                    tensors[name] = Checked(path, zip, prefix, name, tensor);
            return new TorchCheckpoint(path, zip, prefix, tensors);
        }
        catch
        {
            zip.Dispose();
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
        byte[] bytes = ReadAll(Path, _zip.GetEntry(_prefix + "data/" + storage.Key)!);
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
    public void Dispose() => _zip.Dispose();

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

    private static string ReadText(string path, ZipArchiveEntry entry) => Encoding.ASCII.GetString(ReadAll(path, entry));

    // A tensor's shape, strides and offset must stay inside its storage, and the storage inside its archive entry, before
    // anything is allocated from them.
    private static TensorRecord Checked(string path, ZipArchive zip, string prefix, string name, TensorRecord record)
    {
        StorageRecord storage = record.Storage;
        InvalidDataException Bad(string what) => new($"{path}: tensor '{Printable(name)}' {what}");
        if (!ReadableStorages.Contains(storage.DType))
            throw Bad($"has unsupported storage type {storage.DType}");
        ZipArchiveEntry entry = zip.GetEntry(prefix + "data/" + storage.Key) ?? throw Bad($"has no storage entry data/{Printable(storage.Key)}");
        if (storage.Count < 0 || storage.Count > entry.Length / storage.ElementSize)
            throw Bad($"declares a storage of {storage.Count} elements but data/{storage.Key} holds {entry.Length} bytes");
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

    // Text from a pickle, fit for a one-line message: control characters replaced, cut to 60 characters.
    private static string Printable(string text)
    {
        string clean = string.Concat(text.Take(60).Select(c => char.IsControl(c) ? '?' : c));
        return text.Length > 60 ? clean + "..." : clean;
    }

    private static readonly HashSet<string> ReadableStorages = ["FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage"];

    internal sealed record StorageRecord(string DType, string Key, long Count)
    {
        public int ElementSize => DType switch { "DoubleStorage" or "LongStorage" => 8, "HalfStorage" or "BFloat16Storage" => 2, _ => 4 };
    }

    internal sealed record TensorRecord(StorageRecord Storage, long Offset, int[] Shape, long[] Stride);

    internal sealed class PickleDict
    {
        public List<KeyValuePair<object, object>> Items { get; } = [];
    }

    private sealed record Global(string Module, string Name)
    {
        public string FullName => $"{Module}.{Name}";
    }

    /// <summary>
    /// A pickle virtual machine with an allow-list: the opcodes torch.save emits for state dicts (protocols 2-5) and
    /// the globals collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter,
    /// torch._tensor._rebuild_from_type_v2, torch.nn.parameter.Parameter and torch.*Storage types.
    /// </summary>
    private sealed class RestrictedUnpickler(byte[] data, string path)
    {
        private static readonly HashSet<string> AllowedGlobals =
        [
            "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
            "torch._tensor._rebuild_from_type_v2", "torch.nn.parameter.Parameter",
            "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
            "torch.LongStorage", "torch.IntStorage", "torch.BoolStorage", "torch.ByteStorage",
        ];

        private static readonly object Mark = new();
        private readonly List<object> _stack = [];
        private readonly Dictionary<long, object> _memo = [];
        private int _position;

        public object Load()
        {
            while (true)
            {
                byte opcode = Byte();
                switch (opcode)
                {
                    case 0x80: Byte(); break;                                    // PROTO
                    case 0x95: Bytes(8); break;                                  // FRAME
                    case (byte)'.': return Pop();                                // STOP
                    case (byte)'(': _stack.Add(Mark); break;                     // MARK
                    case (byte)'}': _stack.Add(new PickleDict()); break;         // EMPTY_DICT
                    case (byte)']': _stack.Add(new List<object>()); break;       // EMPTY_LIST
                    case (byte)')': _stack.Add(Array.Empty<object>()); break;    // EMPTY_TUPLE
                    case (byte)'t': _stack.Add(PopToMark().ToArray()); break;    // TUPLE
                    case 0x85: _stack.Add(new[] { Pop() }); break;               // TUPLE1
                    case 0x86: { object b = Pop(), a = Pop(); _stack.Add(new[] { a, b }); break; }
                    case 0x87: { object c = Pop(), b = Pop(), a = Pop(); _stack.Add(new[] { a, b, c }); break; }
                    case (byte)'q': _memo[Byte()] = Top(); break;                // BINPUT
                    case (byte)'r': _memo[UInt32()] = Top(); break;              // LONG_BINPUT
                    case 0x94: _memo[_memo.Count] = Top(); break;                // MEMOIZE
                    case (byte)'h': _stack.Add(Memo(Byte())); break;             // BINGET
                    case (byte)'j': _stack.Add(Memo(UInt32())); break;           // LONG_BINGET
                    case (byte)'X': _stack.Add(Utf8(UInt32())); break;           // BINUNICODE
                    case 0x8c: _stack.Add(Utf8(Byte())); break;                  // SHORT_BINUNICODE
                    case 0x8d: _stack.Add(Utf8(BinaryPrimitives.ReadInt64LittleEndian(Bytes(8)))); break;
                    case (byte)'U': _stack.Add(Encoding.Latin1.GetString(Bytes(Byte()))); break;   // SHORT_BINSTRING
                    case (byte)'T': _stack.Add(Encoding.Latin1.GetString(Bytes(UInt32()))); break;
                    case (byte)'J': _stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break;
                    case (byte)'K': _stack.Add((long)Byte()); break;             // BININT1
                    case (byte)'M': _stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break;
                    case 0x8a: _stack.Add(Long1()); break;                       // LONG1
                    case (byte)'N': _stack.Add(None.Value); break;
                    case 0x88: _stack.Add(true); break;                          // NEWTRUE
                    case 0x89: _stack.Add(false); break;                         // NEWFALSE
                    case (byte)'G': _stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break;
                    case (byte)'c': _stack.Add(CheckGlobal(Line(), Line())); break;                  // GLOBAL
                    case 0x93: { string name = PopString(), module = PopString(); _stack.Add(CheckGlobal(module, name)); break; }
                    case (byte)'Q': _stack.Add(PersistentLoad(Pop())); break;   // BINPERSID
                    case (byte)'R': { object args = Pop(), callable = Pop(); _stack.Add(Reduce(callable, args)); break; }
                    case (byte)'b': Pop(); break;                                // BUILD: instance state (e.g. _metadata) is not needed
                    case (byte)'s': { object value = Pop(), key = Pop(); AsDict(Top()).Items.Add(new(key, value)); break; }
                    case (byte)'u': SetItems(); break;                           // SETITEMS
                    case (byte)'a': { object value = Pop(); AsList(Top()).Add(value); break; }
                    case (byte)'e': { List<object> items = PopToMark(); AsList(Top()).AddRange(items); break; }
                    default:
                        throw Refuse($"pickle opcode 0x{opcode:x2} at byte {_position - 1} is not allowed");
                }
            }
        }

        private object CheckGlobal(string module, string name)
        {
            var global = new Global(module, name);
            return AllowedGlobals.Contains(global.FullName) ? global
                : throw Refuse($"refusing global '{Printable(global.FullName)}': only tensors and containers are rebuilt from a checkpoint");
        }

        private object PersistentLoad(object pid)
        {
            if (pid is object[] { Length: 5 } t && t[0] is "storage" && t[1] is Global type && t[2] is string key && t[4] is long count)
                return new StorageRecord(type.Name, key, count);
            throw Refuse("unsupported persistent id (expected a torch storage)");
        }

        private object Reduce(object callable, object args)
        {
            if (callable is not Global global || args is not object[] a)
                throw Refuse("REDUCE on something that is not an allowed global");
            switch (global.FullName)
            {
                case "collections.OrderedDict":
                    return new PickleDict();
                case "torch._utils._rebuild_tensor_v2" when a.Length >= 4 && a[0] is StorageRecord storage && a[2] is object[] shape
                    && a[3] is object[] stride:
                    return new TensorRecord(storage, ToLong(a[1]), [.. shape.Select(Dimension)], [.. stride.Select(ToLong)]);
                case "torch._utils._rebuild_parameter" when a.Length >= 1:
                    return a[0];
                // One level only: a chain of nested rebuilds would recurse as deep as the pickle is long.
                case "torch._tensor._rebuild_from_type_v2" when a.Length >= 3 && a[0] is Global inner && inner != global && a[2] is object[] innerArgs:
                    return Reduce(inner, innerArgs);
                default:
                    throw Refuse($"refusing to call '{Printable(global.FullName)}' with these arguments");
            }
        }

        private void SetItems()
        {
            List<object> items = PopToMark();
            PickleDict dict = AsDict(Top());
            for (int i = 0; i + 1 < items.Count; i += 2)
                dict.Items.Add(new(items[i], items[i + 1]));
        }

        private PickleDict AsDict(object value) => value as PickleDict ?? throw Refuse("SETITEM on a non-dictionary");

        private List<object> AsList(object value) => value as List<object> ?? throw Refuse("APPEND on a non-list");

        private long ToLong(object value) => value is long l ? l : throw Refuse($"expected an integer, found {Describe(value)}");

        private int Dimension(object value)
        {
            long d = ToLong(value);
            return d is >= 0 and <= int.MaxValue ? (int)d : throw Refuse($"tensor dimension {d} is out of range");
        }

        private string PopString() => Pop() is string text ? text : throw Refuse("STACK_GLOBAL expects a module and a name (strings)");

        private static string Describe(object value) =>
            value switch { string => "a string", object[] => "a tuple", Global g => $"'{g.FullName}'", PickleDict => "a dictionary", _ => "another value" };

        private object Memo(long key) => _memo.TryGetValue(key, out object? value) ? value : throw Refuse($"memo key {key} is undefined");

        private object Top() => _stack.Count > 0 ? _stack[^1] : throw Refuse("stack underflow");

        private object Pop()
        {
            object value = Top();
            _stack.RemoveAt(_stack.Count - 1);
            return value;
        }

        private List<object> PopToMark()
        {
            int mark = _stack.LastIndexOf(Mark);
            if (mark < 0)
                throw Refuse("MARK expected");
            List<object> items = _stack.GetRange(mark + 1, _stack.Count - mark - 1);
            _stack.RemoveRange(mark, _stack.Count - mark);
            return items;
        }

        private byte Byte() => _position < data.Length ? data[_position++] : throw Refuse("unexpected end of pickle");

        private ReadOnlySpan<byte> Bytes(long count)
        {
            if (count < 0 || count > data.Length - _position)
                throw Refuse($"a length of {count} bytes at byte {_position} runs past the end of the pickle");
            _position += (int)count;
            return data.AsSpan(_position - (int)count, (int)count);
        }

        private uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

        private string Utf8(long length) => Encoding.UTF8.GetString(Bytes(length));

        private long Long1()
        {
            ReadOnlySpan<byte> bytes = Bytes(Byte());
            if (bytes.Length > 8)
                throw Refuse("integer too large");
            long value = 0;
            for (int i = bytes.Length - 1; i >= 0; i--)
                value = (value << 8) | bytes[i];
            if (bytes.Length is > 0 and < 8 && (bytes[^1] & 0x80) != 0)
                value -= 1L << (8 * bytes.Length);
            return value;
        }

        private string Line()
        {
            int end = Array.IndexOf(data, (byte)'\n', _position);
            if (end < 0)
                throw Refuse("unterminated GLOBAL");
            string text = Encoding.ASCII.GetString(data, _position, end - _position);
            _position = end + 1;
            return text;
        }

        private InvalidDataException Refuse(string message) => new($"{path}: {message}");
    }

    private sealed class None
    {
        public static readonly None Value = new();
    }
}
