using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Kernels;
using Wav2Vec2.Tensors;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Autograd;

public static partial class Ops
{
    /// <summary>
    /// CTC loss (torch.nn.functional.ctc_loss semantics) of log-probabilities (batch, frames, classes), for example the
    /// output of <see cref="LogSoftmax"/>. <paramref name="targets"/> holds every utterance's labels back to back (no
    /// blanks), <paramref name="targetLengths"/> how many belong to each, <paramref name="inputLengths"/> how many frames
    /// of each utterance are valid. An utterance whose target cannot fit its frames has an infinite loss, or, with
    /// <paramref name="zeroInfinity"/>, zero loss and zero gradient. <see cref="Reduction.Sum"/> adds the utterances'
    /// losses; <see cref="Reduction.Mean"/> divides each by its target length (at least 1) and averages over the batch.
    /// The gradient is that of the loss with respect to the log-probabilities (minus the alignment posteriors); through
    /// <see cref="LogSoftmax"/> it becomes softmax minus posteriors on the logits. Utterances run in parallel.
    /// </summary>
    /// <example><code>
    /// Tensor loss = Ops.CtcLoss(Ops.LogSoftmax(logits), labels, labelLengths, frameLengths, blank: 0);
    /// </code></example>
    public static Tensor CtcLoss(Tensor logProbs, int[] targets, int[] targetLengths, int[] inputLengths, int blank,
        Reduction reduction = Reduction.Sum, bool zeroInfinity = false)
    {
        Require(logProbs.Rank == 3, "CtcLoss", $"log-probabilities must be (batch, frames, classes), got {Shape(logProbs)}");
        int batch = logProbs.Size(0), frames = logProbs.Size(1), classes = logProbs.Size(2);
        Require(targetLengths.Length == batch && inputLengths.Length == batch, "CtcLoss",
            $"need {batch} target and input lengths, got {targetLengths.Length} and {inputLengths.Length}");
        Require((uint)blank < (uint)classes, "CtcLoss", $"blank {blank} is not a class in [0, {classes})");
        var offsets = new int[batch + 1];
        for (int b = 0; b < batch; b++)
        {
            Require(targetLengths[b] >= 0, "CtcLoss", $"target length {targetLengths[b]} of utterance {b} is negative");
            Require((uint)inputLengths[b] <= (uint)frames, "CtcLoss", $"input length {inputLengths[b]} of utterance {b} is not in [0, {frames}]");
            offsets[b + 1] = offsets[b] + targetLengths[b];
        }
        Require(offsets[batch] == targets.Length, "CtcLoss", $"target lengths add up to {offsets[batch]}, but {targets.Length} targets were given");
        for (int i = 0; i < targets.Length; i++)
            Require((uint)targets[i] < (uint)classes && targets[i] != blank, "CtcLoss",
                $"target {targets[i]} at position {i} is not a non-blank class in [0, {classes})");

        Tape? tape = Tape.For(logProbs);
        Tensor? gradient = tape != null ? new Tensor(batch, frames, classes) : null;   // (B, T, V) d loss_b / d logProbs
        var losses = new double[batch];
        int rowLength = frames * classes;
        Parallelism.For(batch, b =>
        {
            Span<float> itemGradient = gradient != null ? gradient.Span.Slice(b * rowLength, rowLength) : default;
            losses[b] = CtcKernels.LossAndGradient(logProbs.Span.Slice(b * rowLength, rowLength), inputLengths[b], classes,
                targets.AsSpan(offsets[b], targetLengths[b]), blank, itemGradient);
            if (zeroInfinity && double.IsPositiveInfinity(losses[b]))
                losses[b] = 0;   // and its gradient stays zero: the kernel adds nothing for an impossible target
        });
        var weights = new float[batch];
        double total = 0;
        for (int b = 0; b < batch; b++)
        {
            weights[b] = reduction == Reduction.Mean ? 1f / (batch * Math.Max(1, targetLengths[b])) : 1f;
            total += losses[b] * weights[b];
        }
        Tensor loss = Tensor.Scalar((float)total);
        if (gradient == null)
            return loss;
        return Recorded(tape, loss, dLoss =>
        {
            Span<float> dx = logProbs.GradSpan();
            for (int b = 0; b < batch; b++)
                TensorPrimitives.MultiplyAdd(gradient.Span.Slice(b * rowLength, rowLength), dLoss.Span[0] * weights[b],
                    dx.Slice(b * rowLength, rowLength), dx.Slice(b * rowLength, rowLength));
        }, gradient);
    }
}
