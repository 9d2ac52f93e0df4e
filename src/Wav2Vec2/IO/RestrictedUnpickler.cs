using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Wav2Vec2.IO;

/// <summary>A class or function a pickle names (GLOBAL or STACK_GLOBAL); never imported or called.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";
}

/// <summary>A pickled dictionary, its items in the pickle's order (keys need not be strings).</summary>
internal sealed class PickleDict
{
    public List<KeyValuePair<object, object>> Items { get; } = [];

    /// <summary>The value of the string key <paramref name="key"/>, or null.</summary>
    public object? Get(string key)
    {
        foreach (var (k, v) in Items)
            if (k is string s && s == key)
                return v;
        return null;
    }
}

/// <summary>
/// An instance of an allowed data class (argparse.Namespace, omegaconf's containers and nodes, ...) as data: its class,
/// its constructor arguments and the state BUILD gave it. Nothing of the class runs.
/// </summary>
internal sealed class PickleObject(PickleGlobal type, object[] arguments)
{
    public PickleGlobal Type { get; } = type;
    public object[] Arguments { get; } = arguments;
    public object? State { get; set; }
}

/// <summary>Python's None.</summary>
internal sealed class PickleNone
{
    public static readonly PickleNone Value = new();
}

/// <summary>
/// What a pickle may name: <see cref="Callables"/> are rebuilt by <see cref="Reduce"/> (torch's tensor rebuilds);
/// <see cref="IsDataClass"/> classes become inert <see cref="PickleObject"/>s; anything else is refused.
/// <see cref="PersistentLoad"/> turns a persistent id (a torch storage) into a value.
/// </summary>
internal sealed record PickleRules(
    IReadOnlySet<string> Callables,
    Func<PickleGlobal, object[], object?> Reduce,
    Func<object, object?> PersistentLoad,
    Func<PickleGlobal, bool> IsDataClass);

/// <summary>
/// A pickle virtual machine (protocols 2-5) with an allow-list: it builds dictionaries, lists, tuples, sets, scalars,
/// byte strings and what <see cref="PickleRules"/> allow, and refuses every other global (a function such as os.system,
/// an unknown class) and every opcode that would run code (INST, OBJ, EXT*). Reads from a stream, so that several
/// pickles in a row (torch.save's legacy format) can be read one after another.
/// </summary>
internal sealed class RestrictedUnpickler(Stream data, string path, PickleRules rules)
{
    private static readonly object Mark = new();
    private readonly List<object> _stack = [];
    private readonly Dictionary<long, object> _memo = [];

    /// <summary>Reads one pickle from the stream's position up to its STOP.</summary>
    public object Load()
    {
        _stack.Clear();
        _memo.Clear();
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
                case 0x8f: _stack.Add(new List<object>()); break;            // EMPTY_SET (as a list)
                case (byte)')': _stack.Add(Array.Empty<object>()); break;    // EMPTY_TUPLE
                case (byte)'t': _stack.Add(PopToMark().ToArray()); break;    // TUPLE
                case 0x91: _stack.Add(PopToMark()); break;                   // FROZENSET (as a list)
                case 0x85: _stack.Add(new[] { Pop() }); break;               // TUPLE1
                case 0x86: { object b = Pop(), a = Pop(); _stack.Add(new[] { a, b }); break; }
                case 0x87: { object c = Pop(), b = Pop(), a = Pop(); _stack.Add(new[] { a, b, c }); break; }
                case (byte)'p': _memo[MemoKey(Line())] = Top(); break;      // PUT
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
                case (byte)'C': _stack.Add(Bytes(Byte()).ToArray()); break;  // SHORT_BINBYTES
                case (byte)'B': _stack.Add(Bytes(UInt32()).ToArray()); break;
                case 0x8e: _stack.Add(Bytes(BinaryPrimitives.ReadInt64LittleEndian(Bytes(8))).ToArray()); break;
                case (byte)'J': _stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break;
                case (byte)'K': _stack.Add((long)Byte()); break;             // BININT1
                case (byte)'M': _stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break;
                case 0x8a: _stack.Add(Long(Bytes(Byte()))); break;           // LONG1
                case 0x8b: _stack.Add(Long(Bytes(UInt32()))); break;         // LONG4
                case (byte)'N': _stack.Add(PickleNone.Value); break;
                case 0x88: _stack.Add(true); break;                          // NEWTRUE
                case 0x89: _stack.Add(false); break;                         // NEWFALSE
                case (byte)'G': _stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break;
                case (byte)'c': _stack.Add(CheckGlobal(Line(), Line())); break;                  // GLOBAL
                case 0x93: { string name = PopString(), module = PopString(); _stack.Add(CheckGlobal(module, name)); break; }
                case (byte)'Q': _stack.Add(rules.PersistentLoad(Pop()) ?? throw Refuse("unsupported persistent id (expected a torch storage)")); break;
                case (byte)'R': { object args = Pop(), callable = Pop(); _stack.Add(Reduce(callable, args)); break; }
                case 0x81: { object args = Pop(), type = Pop(); _stack.Add(NewObject(type, args)); break; }           // NEWOBJ
                case 0x92: { Pop(); object args = Pop(), type = Pop(); _stack.Add(NewObject(type, args)); break; }   // NEWOBJ_EX (keyword arguments dropped)
                case (byte)'b': { object state = Pop(); if (Top() is PickleObject o) o.State = state; break; }      // BUILD: data objects keep their state
                case (byte)'s': { object value = Pop(), key = Pop(); AsDict(Top()).Items.Add(new(key, value)); break; }
                case (byte)'u': SetItems(); break;                           // SETITEMS
                case (byte)'a': { object value = Pop(); AsList(Top()).Add(value); break; }
                case (byte)'e': { List<object> items = PopToMark(); AsList(Top()).AddRange(items); break; }
                case 0x90: { List<object> items = PopToMark(); AsList(Top()).AddRange(items); break; }              // ADDITEMS
                default:
                    throw Refuse($"pickle opcode 0x{opcode:x2} at byte {data.Position - 1} is not allowed");
            }
        }
    }

    /// <summary>Text from a pickle, fit for a one-line message: control characters replaced, cut to 60 characters.</summary>
    public static string Printable(string text)
    {
        string clean = string.Concat(text.Take(60).Select(c => char.IsControl(c) ? '?' : c));
        return text.Length > 60 ? clean + "..." : clean;
    }

    private object CheckGlobal(string module, string name)
    {
        var global = new PickleGlobal(module, name);
        return rules.Callables.Contains(global.FullName) || rules.IsDataClass(global) ? global
            : throw Refuse($"refusing global '{Printable(global.FullName)}': only tensors and containers are rebuilt from a checkpoint");
    }

    private object Reduce(object callable, object args)
    {
        if (callable is not PickleGlobal global || args is not object[] a)
            throw Refuse("REDUCE on something that is not an allowed global");
        if (rules.Callables.Contains(global.FullName))
            return rules.Reduce(global, a) ?? throw Refuse($"refusing to call '{Printable(global.FullName)}' with these arguments");
        return DataObject(global, a);
    }

    private object NewObject(object type, object args) => type is PickleGlobal global && rules.IsDataClass(global) && args is object[] a
        ? DataObject(global, a)
        : throw Refuse("NEWOBJ of something that is not an allowed data class");

    // Dictionary types become dictionaries, so that the SETITEMS that follow fill them; other classes inert records.
    private static object DataObject(PickleGlobal global, object[] arguments) =>
        global.FullName is "collections.defaultdict" or "collections.OrderedDict" or "__builtin__.dict" or "builtins.dict"
            ? new PickleDict() : new PickleObject(global, arguments);

    private void SetItems()
    {
        List<object> items = PopToMark();
        PickleDict dict = AsDict(Top());
        for (int i = 0; i + 1 < items.Count; i += 2)
            dict.Items.Add(new(items[i], items[i + 1]));
    }

    private PickleDict AsDict(object value) => value as PickleDict ?? throw Refuse("SETITEM on a non-dictionary");

    private List<object> AsList(object value) => value as List<object> ?? throw Refuse("APPEND on a non-list");

    private string PopString() => Pop() is string text ? text : throw Refuse("STACK_GLOBAL expects a module and a name (strings)");

    private long MemoKey(string line) => long.TryParse(line, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long key)
        ? key : throw Refuse($"PUT expects a memo key, got '{Printable(line)}'");

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

    private byte Byte()
    {
        int value = data.ReadByte();
        return value >= 0 ? (byte)value : throw Refuse("unexpected end of pickle");
    }

    // The length is checked against what the stream holds before anything is allocated.
    private ReadOnlySpan<byte> Bytes(long count)
    {
        if (count < 0 || count > data.Length - data.Position)
            throw Refuse($"a length of {count} bytes at byte {data.Position} runs past the end of the pickle");
        var bytes = new byte[count];
        data.ReadExactly(bytes);
        return bytes;
    }

    private uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

    private string Utf8(long length) => Encoding.UTF8.GetString(Bytes(length));

    // Little-endian two's complement; beyond 64 bits (torch.save's legacy magic number) a BigInteger.
    private static object Long(ReadOnlySpan<byte> bytes)
    {
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    private string Line()
    {
        var line = new List<byte>();
        for (int b = data.ReadByte(); b != '\n'; b = data.ReadByte())
        {
            if (b < 0 || line.Count > 4096)
                throw Refuse("unterminated text line (GLOBAL or PUT)");
            line.Add((byte)b);
        }
        return Encoding.ASCII.GetString([.. line]);
    }

    private InvalidDataException Refuse(string message) => new($"{path}: {message}");
}
