using Wav2Vec2.Diagnostics;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

/// <summary>
/// The differentiable operations of the engine. Each forward runs a fused kernel; when a <see cref="Tape"/> is
/// recording and an input requires a gradient, it records a backward that adds into the inputs' gradients.
/// Outputs come from the current <see cref="TensorArena"/> when one is open.
/// </summary>
/// <remarks>
/// Adding an op (the one checklist; tests enforce the third point):
/// <list type="number">
/// <item>A span kernel in Kernels (inputs, sizes, outputs; shape comments on every buffer) with a scalar twin, and a
/// twin test on small and odd shapes for every instruction-set path (tests/Kernels).</item>
/// <item>The op here: validate shapes with <c>Require</c> (message names the op and the shapes), run the kernel, and
/// return through <c>Recorded(tape, output, backward, saved...)</c>, listing every tensor saved only for the backward
/// so that it goes back to the pool as soon as the backward has run. The backward adds into <c>GradSpan()</c> of the
/// inputs that require a gradient; it never overwrites.</item>
/// <item>A central-difference check in tests/Autograd/GradientCheckTests marked
/// <c>[ChecksGradientOf(nameof(Ops.X))]</c>; <c>EveryPublicOpHasAGradientCheck</c> fails without it.</item>
/// <item>Values and input gradients against PyTorch: a case in tools/export_engine_reference.py, the regenerated
/// fixture, and a test in tests/Autograd/PyTorchParityTests.</item>
/// </list>
/// </remarks>
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
        string? stage = StageProfiler.Current;
        tape?.Record(new ClosureOp(() =>
        {
            if (output.Grad is not Tensor grad)
                return;
            using (StageProfiler.EnterBackward(stage))
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
