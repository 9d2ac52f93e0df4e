using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

/// <summary>
/// One recorded operation: it keeps what its backward needs and, in <see cref="Backward"/>, adds the gradients of its
/// inputs (those with <see cref="Tensor.RequiresGrad"/>) from the gradient of its output.
/// </summary>
internal abstract class TapeOp
{
    public abstract void Backward();
}

/// <summary>
/// The append-only record of a forward pass. While a tape is open on a thread (and no <see cref="NoGrad"/> scope is),
/// every op whose inputs require a gradient appends itself; <see cref="Backward"/> walks the record in reverse.
/// </summary>
/// <example><code>
/// using var arena = new TensorArena();
/// using var tape = new Tape();
/// Tensor loss = Ops.Mean(Ops.Linear(x, w, b));
/// tape.Backward(loss);   // w.Grad and b.Grad now hold dloss/dw and dloss/db
/// </code></example>
public sealed class Tape : IDisposable
{
    [ThreadStatic]
    private static Tape? _current;

    [ThreadStatic]
    private static int _noGradDepth;

    private readonly Tape? _outer;
    private readonly List<TapeOp> _ops = [];
    private Tensor? _root;
    private bool _disposed;

    /// <summary>Opens a tape on this thread; it records until disposed.</summary>
    public Tape()
    {
        _outer = _current;
        _current = this;
    }

    /// <summary>Number of recorded operations.</summary>
    public int Count => _ops.Count;

    /// <summary>True when an op run now on this thread would be recorded (given inputs that require a gradient).</summary>
    public static bool IsRecording => _current != null && _noGradDepth == 0;

    /// <summary>Disables recording on this thread until the returned scope is disposed (for inference).</summary>
    public static NoGradScope NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope();
    }

    /// <summary>
    /// Back-propagates from <paramref name="output"/>: seeds its gradient with <paramref name="outputGrad"/> (or 1 for a
    /// one-element output) and runs every recorded op's backward in reverse order. Gradients accumulate into
    /// <see cref="Tensor.Grad"/>. The record is consumed; a second call needs a new forward pass. Inside a
    /// <see cref="TensorArena"/>, intermediate outputs are released as soon as their op's backward has run (only
    /// <paramref name="output"/> stays readable): read any intermediate value you need before calling this.
    /// </summary>
    public void Backward(Tensor output, Tensor? outputGrad = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!output.RequiresGrad)
            throw new InvalidOperationException("Backward: the output does not depend on anything that requires a gradient.");
        if (outputGrad == null && output.Length != 1)
            throw new ArgumentException($"Backward from a non-scalar output {output} needs an explicit output gradient.");
        if (outputGrad != null && !outputGrad.SameShape(output))
            throw new ArgumentException($"Output gradient {outputGrad} does not match output {output}.");

        _root = output;
        Span<float> seed = output.GradSpan();
        if (outputGrad == null)
            seed[0] += 1f;
        else
            TensorPrimitives.Add(seed, outputGrad.Span, seed);

        using (NoGrad())
        {
            for (int i = _ops.Count - 1; i >= 0; i--)
                _ops[i].Backward();
        }
        _ops.Clear();
        _root = null;
    }

    /// <summary>True for the tensor <see cref="Backward"/> started from (it stays readable afterwards).</summary>
    internal bool IsRoot(Tensor tensor) => ReferenceEquals(tensor, _root);

    /// <summary>Stops recording on this thread and drops the record.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_current != this)
            throw new InvalidOperationException("Tape scopes must be disposed in reverse order of creation.");
        _current = _outer;
        _ops.Clear();
    }

    /// <summary>The open tape if an op with these inputs must be recorded, else null.</summary>
    internal static Tape? For(Tensor a) => IsRecording && a.RequiresGrad ? _current : null;

    internal static Tape? For(Tensor a, Tensor? b) =>
        IsRecording && (a.RequiresGrad || b?.RequiresGrad == true) ? _current : null;

    internal static Tape? For(Tensor a, Tensor? b, Tensor? c) =>
        IsRecording && (a.RequiresGrad || b?.RequiresGrad == true || c?.RequiresGrad == true) ? _current : null;

    internal static Tape? For(IReadOnlyList<Tensor> inputs)
    {
        if (!IsRecording)
            return null;
        foreach (Tensor input in inputs)
            if (input.RequiresGrad)
                return _current;
        return null;
    }

    /// <summary>Appends <paramref name="op"/> and marks <paramref name="output"/> as requiring a gradient.</summary>
    internal void Record(TapeOp op, Tensor output)
    {
        output.RequiresGrad = true;
        _ops.Add(op);
    }

    /// <summary>Scope returned by <see cref="NoGrad"/>.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        /// <summary>Re-enables recording (if no outer scope disables it).</summary>
        public void Dispose() => _noGradDepth--;
    }
}
