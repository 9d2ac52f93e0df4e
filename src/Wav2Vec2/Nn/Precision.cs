namespace Wav2Vec2.Nn;

/// <summary>The arithmetic a model's inference runs in (<see cref="Module.UsePrecision"/>); training is always fp32.</summary>
public enum Precision
{
    /// <summary>Single precision throughout (the default; the results the parity tests pin).</summary>
    Float32,

    /// <summary>
    /// 8-bit integer products for the linear layers, the convolutions (feature encoder after its first layer,
    /// positional convolution) and attention's two products: weights quantised symmetrically per output channel (keys
    /// per key, values per channel), activations to u8 with a zero point per row (per input frame and group for a
    /// convolution; attention probabilities on the fixed scale of their softmax), int32 accumulation. The softmax, the
    /// norms and the feature encoder's first layer stay fp32.
    /// </summary>
    Int8,

    /// <summary>
    /// The linear layers' weights as bfloat16 (half their bytes; rounded to 8 significant bits), widened to fp32 as the
    /// product reads them: fp32 arithmetic and accumulation, at fp32's speed. Everything else stays fp32.
    /// </summary>
    BFloat16,
}

/// <summary>Short names of the precisions (the CLI's and the messages').</summary>
internal static class Precisions
{
    public static string Name(Precision precision) => precision switch
    {
        Precision.Int8 => "int8",
        Precision.BFloat16 => "bf16",
        _ => "fp32",
    };
}
