using System.Text;

namespace Wav2Vec2.Tensors;

/// <summary>
/// A dense, contiguous, row-major float32 tensor. Storage comes from the current <see cref="TensorArena"/> when one
/// is open (and goes back to the pool when the arena closes), otherwise from the managed heap.
/// Reshapes are views on the same storage; every operation lives in the Autograd layer's Ops, which records on the
/// tape when gradients are wanted (this layer knows nothing of it).
/// </summary>
public class Tensor
{
    private float[]? _storage;
    private readonly int[] _shape;

    /// <summary>Creates a zero-filled tensor of the given shape (from the current arena if one is open).</summary>
    public Tensor(params int[] shape) : this(shape, clear: true)
    {
    }

    internal Tensor(int[] shape, bool clear, bool pooled = true)
    {
        using var _ = Diagnostics.StageProfiler.Enter("allocation");
        _shape = CheckShape(shape);
        Length = ElementCount(_shape);
        TensorArena? arena = pooled ? TensorArena.Current : null;
        _storage = arena != null ? arena.Rent(this, Length) : new float[Length];
        if (clear && arena != null)
            Array.Clear(_storage, 0, Length);
    }

    // A view: shares the storage of `source`.
    private Tensor(Tensor source, int[] shape)
    {
        _shape = shape;
        Length = source.Length;
        _storage = source.Storage;
        TensorArena.Current?.Track(this);
    }

    /// <summary>Wraps a copy of <paramref name="values"/> with the given shape.</summary>
    public static Tensor FromArray(float[] values, params int[] shape)
    {
        var tensor = new Tensor(shape, clear: false);
        if (values.Length != tensor.Length)
            throw new ArgumentException(
                $"{values.Length} values do not fill shape {FormatShape(shape)} ({tensor.Length} elements).", nameof(values));
        values.AsSpan().CopyTo(tensor.Span);
        return tensor;
    }

    /// <summary>A tensor of the given shape filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var tensor = new Tensor(shape, clear: false);
        tensor.Span.Fill(value);
        return tensor;
    }

    /// <summary>A 0-dimensional tensor holding one value.</summary>
    public static Tensor Scalar(float value) => Full(value);

    /// <summary>Uninitialised storage for kernels that write every element.</summary>
    internal static Tensor Uninitialized(params int[] shape) => new(shape, clear: false);

    /// <summary>The dimensions, outermost first. A scalar has rank 0 and one element.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>A copy of the dimensions.</summary>
    public int[] ShapeArray => (int[])_shape.Clone();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>Size of dimension <paramref name="dim"/>; negative values count from the end.</summary>
    public int Size(int dim) => _shape[NormalizeDim(dim)];

    /// <summary>The elements in row-major order.</summary>
    public Span<float> Span => Storage.AsSpan(0, Length);

    /// <summary>The single element of a one-element tensor.</summary>
    public float ToScalar() => Length == 1 ? Storage[0] : throw new InvalidOperationException(
        $"Item needs a tensor with one element, this one has shape {FormatShape(_shape)}.");

    /// <summary>Whether operations on this tensor record on the tape so that a gradient flows back to it.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient (same shape), or null before any backward pass reached it.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>The element at the given multi-dimensional index.</summary>
    public float this[params int[] index]
    {
        get => Storage[FlatIndex(index)];
        set => Storage[FlatIndex(index)] = value;
    }

    internal float[] Storage => _storage ?? throw StorageReleased();

    /// <summary>Why the storage is gone (the exception reading it throws).</summary>
    private protected virtual Exception StorageReleased() => new ObjectDisposedException(nameof(Tensor),
        "This tensor's storage went back to the pool when its TensorArena closed; copy results out (ToArray, or " +
        "TensorArena.Keep) before the arena is disposed.");

    /// <summary>A copy of the elements.</summary>
    public float[] ToArray() => Span.ToArray();

    /// <summary>
    /// A view with a new shape over the same elements; one dimension may be -1 (inferred). Not recorded for gradients:
    /// Ops.Reshape is the differentiable version.
    /// </summary>
    public Tensor View(params int[] shape) => new(this, ResolveShape(shape, Length));

    /// <summary>Whether this tensor's gradient buffer comes from the current arena (false for long-lived parameters).</summary>
    protected virtual bool PooledGradient => true;

    /// <summary>Gradient buffer, allocated zero-filled on first use.</summary>
    internal Span<float> GradSpan()
    {
        Grad ??= new Tensor(_shape, clear: true, pooled: PooledGradient);
        return Grad.Span;
    }

    internal void Release() => _storage = null;

    internal int NormalizeDim(int dim)
    {
        int normalized = dim < 0 ? dim + Rank : dim;
        if (normalized < 0 || normalized >= Rank)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"Dimension out of range for shape {FormatShape(_shape)}.");
        return normalized;
    }

    /// <summary>(product of dims before <paramref name="dim"/>, size of dim, product of dims after).</summary>
    internal (int Outer, int Size, int Inner) SplitAt(int dim)
    {
        dim = NormalizeDim(dim);
        int outer = 1, inner = 1;
        for (int i = 0; i < dim; i++)
            outer *= _shape[i];
        for (int i = dim + 1; i < Rank; i++)
            inner *= _shape[i];
        return (outer, _shape[dim], inner);
    }

    internal bool SameShape(Tensor other) => _shape.AsSpan().SequenceEqual(other._shape);

    /// <inheritdoc/>
    public override string ToString() => $"Tensor{FormatShape(_shape)}";

    /// <summary>"(2, 3, 4)".</summary>
    public static string FormatShape(ReadOnlySpan<int> shape)
    {
        var text = new StringBuilder("(");
        for (int i = 0; i < shape.Length; i++)
            text.Append(i == 0 ? "" : ", ").Append(shape[i]);
        return text.Append(')').ToString();
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank)
            throw new ArgumentException($"Index of rank {index.Length} for a tensor of shape {FormatShape(_shape)}.");
        int flat = 0;
        for (int i = 0; i < Rank; i++)
        {
            if ((uint)index[i] >= (uint)_shape[i])
                throw new IndexOutOfRangeException($"Index {index[i]} out of range for dimension {i} of {FormatShape(_shape)}.");
            flat = flat * _shape[i] + index[i];
        }
        return flat;
    }

    private static int[] CheckShape(int[] shape)
    {
        foreach (int dim in shape)
            if (dim < 0)
                throw new ArgumentException($"Negative dimension in shape {FormatShape(shape)}.", nameof(shape));
        return (int[])shape.Clone();
    }

    internal static int ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int dim in shape)
            count *= dim;
        return count <= Array.MaxLength ? (int)count
            : throw new ArgumentException($"Shape {FormatShape(shape)} has more than {Array.MaxLength} elements.");
    }

    private static int[] ResolveShape(int[] shape, int length)
    {
        int inferred = Array.IndexOf(shape, -1);
        if (inferred >= 0 && Array.LastIndexOf(shape, -1) != inferred)
            throw new ArgumentException($"Only one dimension may be -1 in {FormatShape(shape)}.");
        var resolved = (int[])shape.Clone();
        if (inferred >= 0)
        {
            resolved[inferred] = 1;
            int known = ElementCount(resolved);
            if (known == 0 || length % known != 0)
                throw new ArgumentException($"Cannot reshape {length} elements to {FormatShape(shape)}.");
            resolved[inferred] = length / known;
        }
        if (ElementCount(CheckShape(resolved)) != length)
            throw new ArgumentException($"Cannot reshape {length} elements to {FormatShape(shape)}.");
        return resolved;
    }
}
