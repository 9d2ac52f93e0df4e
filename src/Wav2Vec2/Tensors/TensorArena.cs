namespace Wav2Vec2.Tensors;

/// <summary>
/// A scope whose tensors borrow pooled storage: every tensor created on this thread while the arena is open (outputs,
/// saved activations, gradients of intermediates) returns its storage to a shared pool when the arena is disposed.
/// Open one per training step or inference call and a steady loop allocates almost nothing on the managed heap.
/// </summary>
/// <example><code>
/// using (var arena = new TensorArena())
/// {
///     Tensor y = Ops.Linear(x, w, b);
///     result = y.ToArray();   // or arena.Keep(y) to use it after the arena closes
/// }
/// </code></example>
public sealed class TensorArena : IDisposable
{
    [ThreadStatic]
    private static TensorArena? _current;

    private readonly TensorArena? _outer;
    private readonly List<Tensor> _owners = [];
    private readonly List<Tensor> _views = [];
    private bool _disposed;

    /// <summary>Opens an arena on this thread; it stays current until disposed.</summary>
    public TensorArena()
    {
        _outer = _current;
        _current = this;
    }

    /// <summary>The innermost open arena of this thread, if any.</summary>
    public static TensorArena? Current => _current;

    /// <summary>Number of tensors this arena will release.</summary>
    public int TrackedCount => _owners.Count + _views.Count;

    /// <summary>Moves <paramref name="tensor"/>'s storage out of the arena so that it outlives it (copying if pooled).</summary>
    public Tensor Keep(Tensor tensor)
    {
        TensorArena? saved = _current;
        _current = null;
        try
        {
            return Tensor.FromArray(tensor.ToArray(), tensor.ShapeArray);
        }
        finally
        {
            _current = saved;
        }
    }

    internal float[] Rent(Tensor owner, int length)
    {
        _owners.Add(owner);
        return StoragePool.Rent(length);
    }

    // Views only lose access; their storage belongs to an owner (pooled or on the heap).
    internal void Track(Tensor view) => _views.Add(view);

    /// <summary>Returns every tracked tensor's storage to the pool; those tensors can no longer be read.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_current != this)
            throw new InvalidOperationException("TensorArena scopes must be disposed in reverse order of creation.");
        _current = _outer;
        foreach (Tensor view in _views)
            view.Release();
        foreach (Tensor owner in _owners)
        {
            StoragePool.Return(owner.Storage);
            owner.Release();
        }
        _views.Clear();
        _owners.Clear();
    }
}

/// <summary>Process-wide pool of float arrays keyed by exact length (shapes repeat from step to step).</summary>
internal static class StoragePool
{
    private const int MaxArraysPerLength = 64;
    private static readonly Dictionary<int, Stack<float[]>> Free = [];

    public static float[] Rent(int length)
    {
        lock (Free)
            if (Free.TryGetValue(length, out Stack<float[]>? stack) && stack.Count > 0)
                return stack.Pop();
        return GC.AllocateUninitializedArray<float>(length);
    }

    public static void Return(float[] storage)
    {
        lock (Free)
        {
            if (!Free.TryGetValue(storage.Length, out Stack<float[]>? stack))
                Free[storage.Length] = stack = new Stack<float[]>();
            if (stack.Count < MaxArraysPerLength)
                stack.Push(storage);
        }
    }
}
