using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>A set of named stored tensors (a checkpoint file or a sharded set of them), read as float32.</summary>
public interface ITensorSource : IDisposable
{
    /// <summary>Stored tensor names.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>The stored shape of <paramref name="name"/>.</summary>
    int[] Shape(string name);

    /// <summary>Reads <paramref name="name"/> as a float32 tensor on the managed heap.</summary>
    Tensor Read(string name);
}

/// <summary>Adapts a <see cref="SafeTensorsFile"/> to <see cref="ITensorSource"/>.</summary>
public sealed class SafeTensorsSource(SafeTensorsFile file) : ITensorSource
{
    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => (IReadOnlyCollection<string>)file.Entries.Keys;

    /// <inheritdoc/>
    public int[] Shape(string name) => file.Entries[name].Shape;

    /// <inheritdoc/>
    public Tensor Read(string name) => file.Read(name);

    /// <inheritdoc/>
    public void Dispose() => file.Dispose();
}

/// <summary>Several shards as one source (model.safetensors.index.json / pytorch_model.bin.index.json).</summary>
public sealed class ShardedSource : ITensorSource
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
    public void Dispose()
    {
        foreach (ITensorSource shard in _shards)
            shard.Dispose();
    }
}
