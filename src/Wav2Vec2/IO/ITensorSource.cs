using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>A set of named stored tensors (a checkpoint file or a sharded set of them), read as float32.</summary>
internal interface ITensorSource : IDisposable
{
    /// <summary>Stored tensor names.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>The stored shape of <paramref name="name"/>.</summary>
    int[] Shape(string name);

    /// <summary>Reads <paramref name="name"/> as a float32 tensor on the managed heap.</summary>
    Tensor Read(string name);

    /// <summary>Reads <paramref name="name"/> into <paramref name="target"/> (its element count): loading a model
    /// this way touches each weight's memory once, not twice.</summary>
    void ReadInto(string name, Span<float> target) => Read(name).Span.CopyTo(target);

    /// <summary>True when <paramref name="name"/> is stored as int8 (the weights of an int8 model directory).</summary>
    bool IsInt8(string name) => false;

    /// <summary>Reads an int8 tensor's values.</summary>
    sbyte[] ReadInt8(string name) => throw new InvalidDataException($"tensor '{name}' is not stored as int8");

    /// <summary>True when <paramref name="name"/> is stored as bfloat16.</summary>
    bool IsBf16(string name) => false;

    /// <summary>Reads a bfloat16 tensor's values as stored.</summary>
    ushort[] ReadBf16(string name) => throw new InvalidDataException($"tensor '{name}' is not stored as bf16");
}
