namespace Wav2Vec2.Decoding;

/// <summary>One point of an alpha/beta grid: the settings and the metrics they give on the tuning set.</summary>
/// <param name="LanguageModelWeight">Alpha.</param>
/// <param name="WordInsertionBonus">Beta.</param>
/// <param name="Metrics">WER/CER on the tuning set.</param>
public sealed record LanguageModelTrial(float LanguageModelWeight, float WordInsertionBonus, TranscriptionMetrics Metrics);
