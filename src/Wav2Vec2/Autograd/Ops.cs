using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

/// <summary>
/// The differentiable operations of the engine. Each forward runs a fused kernel; when a <see cref="Tape"/> is
/// recording and an input requires a gradient, it records a backward that adds into the inputs' gradients.
/// Outputs come from the current <see cref="TensorArena"/> when one is open.
/// </summary>
public static partial class Ops
{
    /// <summary>A recorded backward step: a closure over the tensors its gradient formula needs.</summary>
    private sealed class ClosureOp(Action backward) : TapeOp
    {
        public override void Backward() => backward();
    }

    // Records `backward` for `output` when `tape` is non-null; the backward runs only if a gradient reached output.
    // Every consumer of `output` was recorded later and its backward has already run, so once this backward has run
    // nothing needs the output, its gradient or the tensors saved for it (`saved`): their buffers go straight back to
    // the pool, as PyTorch frees a node's saved tensors. The root of the backward pass stays readable.
    private static Tensor Recorded(Tape? tape, Tensor output, Action<Tensor> backward, params Tensor[] saved)
    {
        tape?.Record(new ClosureOp(() =>
        {
            if (output.Grad is not Tensor grad)
                return;
            backward(grad);
            output.Grad = null;
            TensorArena? arena = TensorArena.Current;
            if (arena == null)
                return;
            arena.Release(grad);
            if (!tape.IsRoot(output))
                arena.Release(output);
            foreach (Tensor tensor in saved)
                arena.Release(tensor);
        }), output);
        return output;
    }

    private static void Require(bool condition, string operation, string message)
    {
        if (!condition)
            throw new ArgumentException($"{operation}: {message}");
    }

    private static string Shape(Tensor t) => Tensor.FormatShape(t.Shape);

    // An op asked to overwrite its input: only legal when no backward pass will need that input.
    private static Tensor InPlaceTarget(Tensor x, string operation) => Tape.For(x) == null ? x
        : throw new InvalidOperationException($"{operation}: in-place evaluation cannot be recorded for a gradient");
}
