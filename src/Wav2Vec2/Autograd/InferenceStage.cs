using Wav2Vec2.Tensors;

namespace Wav2Vec2.Autograd;

/// <summary>
/// Runs one stage of a forward pass (a conv layer, a Transformer layer) so that, when nothing is being recorded, its
/// intermediate tensors go back to the pool as soon as the stage ends and only its output survives. While a tape
/// records, the stage is a plain call: the backward pass needs every saved activation.
/// </summary>
public static class InferenceStage
{
    /// <summary>Computes <paramref name="stage"/> and keeps only its result alive.</summary>
    public static Tensor Run(Func<Tensor> stage)
    {
        if (Tape.IsRecording)
            return stage();
        using var arena = new TensorArena();
        return arena.Promote(stage());
    }
}
