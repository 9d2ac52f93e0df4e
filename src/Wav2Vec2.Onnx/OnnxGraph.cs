using Google.Protobuf;
using Onnx;
using Wav2Vec2.IO;

namespace Wav2Vec2.Onnx;

/// <summary>
/// Builds one ONNX graph (opset 17, IR version 8) from standard operators: each method adds a node and returns the
/// name of its output, so the exporter reads as the forward pass it mirrors. Weights are float32 initializers; a model
/// whose weights pass ONNX's 2 GB protobuf limit keeps them in an external-data file beside the .onnx.
/// </summary>
internal sealed class OnnxGraph
{
    public const int Opset = 17;
    public const int IrVersion = 8;

    private readonly GraphProto _graph = new() { Name = "wav2vec2" };
    private readonly List<(TensorProto Proto, float[] Values)> _weights = [];
    private int _counter;

    /// <summary>A graph input: float (or int64) tensor with named dynamic dimensions or fixed sizes.</summary>
    public string Input(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Makes <paramref name="value"/> a graph output named <paramref name="name"/>.</summary>
    public void Output(string value, string name, params object[] dims)
    {
        Node("Identity", [value], name);
        _graph.Output.Add(ValueInfo(name, TensorProto.Types.DataType.Float, dims));
    }

    /// <summary>A float32 initializer.</summary>
    public string Weight(string hint, float[] values, params long[] dims)
    {
        string name = $"{hint}_{_counter++}";
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(dims);
        _weights.Add((proto, values));
        return name;
    }

    /// <summary>A float32 scalar constant.</summary>
    public string Scalar(float value) => Weight("const", [value]);

    /// <summary>A 1-D int64 constant (shapes, axes, slice bounds).</summary>
    public string Int64s(params long[] values)
    {
        string name = $"ints_{_counter++}";
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        _graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>An int64 scalar constant.</summary>
    public string Int64(long value)
    {
        string name = $"int_{_counter++}";
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Int64Data.Add(value);
        _graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>Adds a node with one output; attributes are (name, int | long | float | string | long[]).</summary>
    public string Node(string op, string[] inputs, string? output = null, params (string Name, object Value)[] attributes) =>
        Nodes(op, inputs, 1, output, attributes)[0];

    /// <summary>Transpose with the permutation <paramref name="perm"/>.</summary>
    public string Transpose(string x, params long[] perm) => Node("Transpose", [x], null, ("perm", perm));

    /// <summary>Cast to <paramref name="to"/>.</summary>
    public string Cast(string x, TensorProto.Types.DataType to) => Node("Cast", [x], null, ("to", (long)to));

    /// <summary>Adds a node with <paramref name="outputs"/> outputs.</summary>
    public string[] Nodes(string op, string[] inputs, int outputs, string? firstOutput = null, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{_counter++}" };
        node.Input.AddRange(inputs);
        string[] names = [.. Enumerable.Range(0, outputs).Select(i => i == 0 && firstOutput != null ? firstOutput : $"{node.Name}_out{i}")];
        node.Output.AddRange(names);
        foreach (var (name, value) in attributes)
            node.Attribute.Add(Attribute(name, value));
        _graph.Node.Add(node);
        return names;
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/> (and, above <paramref name="externalAbove"/> bytes of weights, the
    /// weights to path + ".data": the protobuf limit is 2 GB), each file atomically: a failed export leaves neither.
    /// </summary>
    public void Save(string path, string producerVersion, long externalAbove)
    {
        long bytes = _weights.Sum(w => (long)w.Values.Length * 4);
        string dataPath = path + ".data";
        bool external = bytes > externalAbove;
        if (external)
            AtomicFile.Write(dataPath, stream => WriteExternal(stream, Path.GetFileName(dataPath)));
        else
            foreach (var (proto, values) in _weights)
                proto.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        _graph.Initializer.AddRange(_weights.Select(w => w.Proto));
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Wav2Vec2.Onnx",
            ProducerVersion = producerVersion,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        try
        {
            AtomicFile.Write(path, stream => model.WriteTo(stream));
        }
        catch when (external)
        {
            File.Delete(dataPath);
            throw;
        }
    }

    private void WriteExternal(Stream stream, string location)
    {
        long offset = 0;
        foreach (var (proto, values) in _weights)
        {
            ReadOnlySpan<byte> raw = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
            stream.Write(raw);
            proto.DataLocation = TensorProto.Types.DataLocation.External;
            proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            proto.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            proto.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = raw.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            offset += raw.Length;
        }
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object dim in dims)
            shape.Dim.Add(dim is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        long l => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = l },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ints => IntsAttribute(name, ints),
        _ => throw new ArgumentException($"attribute {name}: unsupported value {value}"),
    };

    private static AttributeProto IntsAttribute(string name, long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
