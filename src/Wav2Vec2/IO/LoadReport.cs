namespace Wav2Vec2.IO;

/// <summary>What loading weights did: tensors left at their initial values and stored tensors not used.</summary>
/// <param name="Missing">Parameters of the model that the checkpoint did not hold (non-strict loads only).</param>
/// <param name="Ignored">Stored tensors the model did not use, such as the heads of a fine-tuned or pre-training
/// checkpoint when only the backbone is loaded.</param>
public sealed record LoadReport(IReadOnlyList<string> Missing, IReadOnlyList<string> Ignored);
