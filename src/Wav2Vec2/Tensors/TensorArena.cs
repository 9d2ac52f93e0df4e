using Wav2Vec2.Kernels;

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
        return BufferPool.Rent(length);
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
            BufferPool.Return(owner.Storage);
            owner.Release();
        }
        _views.Clear();
        _owners.Clear();
    }
}
