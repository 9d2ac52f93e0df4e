namespace Wav2Vec2.Nn;

/// <summary>The arithmetic a model's inference runs in (<see cref="Module.UsePrecision"/>); training is always fp32.</summary>
public enum Precision
{
    /// <summary>Single precision throughout (the default; the results the parity tests pin).</summary>
    Float32,

    /// <summary>
    /// 8-bit integer products for the linear layers and the feature encoder's convolutions: weights quantised
    /// symmetrically per output channel, activations per row (per utterance for a convolution's input) to u8 with a zero
    /// point, int32 accumulation. Attention scores, norms, softmax, the positional convolution and the feature
    /// encoder's first layer stay fp32.
    /// </summary>
    Int8,
}
