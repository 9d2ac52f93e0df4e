using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>Several shards as one source (model.safetensors.index.json / pytorch_model.bin.index.json).</summary>
internal sealed class ShardedSource : ITensorSource
{
    private readonly IReadOnlyList<ITensorSource> _shards;
    private readonly Dictionary<string, ITensorSource> _owner = new(StringComparer.Ordinal);

    /// <summary>Combines <paramref name="shards"/>; a name stored in two shards is an error.</summary>
    public ShardedSource(IReadOnlyList<ITensorSource> shards)
    {
        _shards = shards;
        foreach (ITensorSource shard in shards)
            foreach (string name in shard.Names)
                if (!_owner.TryAdd(name, shard))
                    throw new InvalidDataException($"tensor '{name}' is stored in more than one shard");
    }

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => _owner.Keys;

    /// <inheritdoc/>
    public int[] Shape(string name) => _owner[name].Shape(name);

    /// <inheritdoc/>
    public Tensor Read(string name) => _owner[name].Read(name);

    /// <inheritdoc/>
    public void ReadInto(string name, Span<float> target) => _owner[name].ReadInto(name, target);

    /// <inheritdoc/>
    public bool IsInt8(string name) => _owner[name].IsInt8(name);

    /// <inheritdoc/>
    public sbyte[] ReadInt8(string name) => _owner[name].ReadInt8(name);

    /// <inheritdoc/>
    public bool IsBf16(string name) => _owner[name].IsBf16(name);

    /// <inheritdoc/>
    public ushort[] ReadBf16(string name) => _owner[name].ReadBf16(name);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (ITensorSource shard in _shards)
            shard.Dispose();
    }
}
