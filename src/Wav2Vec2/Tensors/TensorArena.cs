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
    internal int TrackedCount => _owners.Count + _views.Count;

    /// <summary>Moves <paramref name="tensor"/>'s storage out of the arena so that it outlives it (copying if pooled).</summary>
    public Tensor Keep(Tensor tensor) => CopyInto(null, tensor);

    /// <summary>
    /// Hands <paramref name="tensor"/> (created in this arena) to the enclosing arena, or to the managed heap when there
    /// is none, without copying; everything else of this arena is still released on dispose. Inference uses one such
    /// stage per layer so that only the layer outputs stay alive.
    /// </summary>
    internal Tensor Promote(Tensor tensor)
    {
        int index = _owners.LastIndexOf(tensor);
        if (index < 0)
            return CopyInto(_outer, tensor);   // a view or a foreign tensor cannot be moved
        _owners.RemoveAt(index);
        _outer?._owners.Add(tensor);
        return tensor;
    }

    // A copy of `tensor` owned by `target` (the managed heap when null).
    private static Tensor CopyInto(TensorArena? target, Tensor tensor)
    {
        TensorArena? saved = _current;
        _current = target;
        try
        {
            return Tensor.FromArray(tensor.ToArray(), tensor.ShapeArray);
        }
        finally
        {
            _current = saved;
        }
    }

    /// <summary>
    /// Returns <paramref name="tensor"/>'s storage to the pool now, if this arena owns it (an input that a stage of an
    /// inference pass has consumed). Returns false, and does nothing, for tensors the arena does not own.
    /// </summary>
    internal bool Release(Tensor tensor)
    {
        int index = _owners.LastIndexOf(tensor);
        if (index < 0)
            return false;
        _owners.RemoveAt(index);
        BufferPool.Return(tensor.Storage);
        tensor.Release();
        return true;
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
