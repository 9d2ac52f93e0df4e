namespace Wav2Vec2.Nn;

/// <summary>
/// A model that holds weights in int8 or bf16 alone (loaded from such a directory) was asked to train, to run or be
/// saved in another precision, or its fp32 values were read: that needs the fp32 model it came from.
/// </summary>
public sealed class HeldWeightsException(string message) : InvalidOperationException(message);
