using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

/// <summary>
/// Runs one stage of a forward pass (a conv layer, a Transformer layer) so that, when nothing is being recorded, its
/// intermediate tensors go back to the pool as soon as the stage ends and only its output survives. While a tape
/// records, the stage is a plain call: the backward pass needs every saved activation.
/// </summary>
internal static class InferenceStage
{
    /// <summary>Computes <paramref name="stage"/> and keeps only its result alive.</summary>
    public static Tensor Run(Func<Tensor> stage)
    {
        if (Tape.IsRecording)
            return stage();
        using var arena = new TensorArena();
        return arena.Promote(stage());
    }

    /// <summary>
    /// Applies <paramref name="stage"/> to <paramref name="input"/> and, when nothing is recorded, also frees the input
    /// right away if the current arena owns it (a previous stage's output that nothing else reads).
    /// </summary>
    public static Tensor Consume(Tensor input, Func<Tensor, Tensor> stage)
    {
        Tensor output = Run(() => stage(input));
        if (!Tape.IsRecording && !ReferenceEquals(output, input))
            TensorArena.Current?.Release(input);
        return output;
    }

    /// <summary>True when ops may overwrite their input (nothing is recorded, so no backward pass needs it).</summary>
    public static bool InPlaceAllowed => !Tape.IsRecording;
}
