using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>Adapts a <see cref="SafeTensorsFile"/> to <see cref="ITensorSource"/>.</summary>
internal sealed class SafeTensorsSource(SafeTensorsFile file) : ITensorSource
{
    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => (IReadOnlyCollection<string>)file.Entries.Keys;

    /// <inheritdoc/>
    public int[] Shape(string name) => file.Entries[name].Shape;

    /// <inheritdoc/>
    public Tensor Read(string name) => file.Read(name);

    /// <inheritdoc/>
    public void ReadInto(string name, Span<float> target) => file.ReadInto(name, target);

    /// <inheritdoc/>
    public bool IsInt8(string name) => file.Entries[name].DType == SafeTensorsDType.I8;

    /// <inheritdoc/>
    public sbyte[] ReadInt8(string name) => file.ReadInt8(name);

    /// <inheritdoc/>
    public bool IsBf16(string name) => file.Entries[name].DType == SafeTensorsDType.BF16;

    /// <inheritdoc/>
    public ushort[] ReadBf16(string name) => file.ReadBf16(name);

    /// <inheritdoc/>
    public void Dispose() => file.Dispose();
}
