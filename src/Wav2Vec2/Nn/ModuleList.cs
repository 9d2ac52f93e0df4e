namespace Wav2Vec2.Nn;

/// <summary>An indexed list of child modules, named "0", "1", ... as PyTorch's nn.ModuleList.</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> _items = [];

    /// <summary>Creates the list from <paramref name="items"/>.</summary>
    public ModuleList(IEnumerable<T> items)
    {
        foreach (T item in items)
            _items.Add(AddModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), item));
    }

    /// <inheritdoc/>
    public T this[int index] => _items[index];

    /// <inheritdoc/>
    public int Count => _items.Count;

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
