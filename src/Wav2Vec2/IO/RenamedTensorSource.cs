using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>Another source's tensors under other names (e.g. fairseq's as Hugging Face's); it owns that source.</summary>
internal sealed class RenamedTensorSource : ITensorSource
{
    private readonly ITensorSource _inner;
    private readonly Dictionary<string, string> _stored = new(StringComparer.Ordinal);   // new name -> stored name

    public RenamedTensorSource(ITensorSource inner, Func<string, string> rename)
    {
        _inner = inner;
        foreach (string name in inner.Names)
            if (!_stored.TryAdd(rename(name), name))
                throw new InvalidDataException($"tensors '{_stored[rename(name)]}' and '{name}' map to the same name '{rename(name)}'");
    }

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => _stored.Keys;

    /// <inheritdoc/>
    public int[] Shape(string name) => _inner.Shape(_stored[name]);

    /// <inheritdoc/>
    public Tensor Read(string name) => _inner.Read(_stored[name]);

    /// <inheritdoc/>
    public void ReadInto(string name, Span<float> target) => _inner.ReadInto(_stored[name], target);

    /// <inheritdoc/>
    public bool IsInt8(string name) => _inner.IsInt8(_stored[name]);

    /// <inheritdoc/>
    public sbyte[] ReadInt8(string name) => _inner.ReadInt8(_stored[name]);

    /// <inheritdoc/>
    public bool IsBf16(string name) => _inner.IsBf16(_stored[name]);

    /// <inheritdoc/>
    public ushort[] ReadBf16(string name) => _inner.ReadBf16(_stored[name]);

    /// <inheritdoc/>
    public void Dispose() => _inner.Dispose();
}
