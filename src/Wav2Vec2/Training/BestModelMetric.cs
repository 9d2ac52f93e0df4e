namespace Wav2Vec2.Training;

/// <summary>The validation figure that picks the best model of a CTC fine-tuning run (best/).</summary>
public enum BestModelMetric
{
    /// <summary>Word error rate, fairseq's best_checkpoint_metric for its fine-tuning recipes.</summary>
    WordErrorRate,

    /// <summary>
    /// Character error rate: for models that do not spell whole words yet, whose WER sits near 100 % and picks
    /// checkpoints by noise.
    /// </summary>
    CharacterErrorRate,
}
