using Wav2Vec2.Tensors;

namespace Wav2Vec2.Decoding;

/// <summary>One point of an alpha/beta grid: the settings and the metrics they give on the tuning set.</summary>
/// <param name="LanguageModelWeight">Alpha.</param>
/// <param name="WordInsertionBonus">Beta.</param>
/// <param name="Metrics">WER/CER on the tuning set.</param>
public sealed record LanguageModelTrial(float LanguageModelWeight, float WordInsertionBonus, TranscriptionMetrics Metrics);

/// <summary>
/// Grid search of the language-model weight (alpha) and word insertion bonus (beta) of a beam-search decoder on a dev
/// set, as pyctcdecode users and fairseq's infer.py do: the acoustic model runs once per utterance, every grid point
/// only re-decodes the logits. Never tune on the test set.
/// </summary>
public static class LanguageModelTuning
{
    /// <summary>Every (alpha, beta) of the grid, best (lowest WER, then CER) first.</summary>
    /// <param name="decoder">The decoder whose other settings (beam width, lexicon, language model) stay fixed.</param>
    /// <param name="utterances">Logits (frames, vocab_size) of each dev utterance with its reference transcript.</param>
    /// <param name="alphas">Language-model weights to try.</param>
    /// <param name="betas">Word insertion bonuses to try.</param>
    public static IReadOnlyList<LanguageModelTrial> Grid(CtcBeamSearchDecoder decoder, IReadOnlyList<(Tensor Logits, string Reference)> utterances,
        IEnumerable<float> alphas, IEnumerable<float> betas)
    {
        var trials = new List<LanguageModelTrial>();
        float[] betaValues = betas.ToArray();
        foreach (float alpha in alphas)
            foreach (float beta in betaValues)
            {
                ICtcDecoder candidate = decoder.WithOptions(decoder.Options with { LanguageModelWeight = alpha, WordInsertionBonus = beta });
                var results = new TranscriptionResult[utterances.Count];
                Threading.Parallelism.For(utterances.Count, i =>
                {
                    (Tensor logits, string reference) = utterances[i];
                    results[i] = TranscriptionResult.Score(i.ToString(System.Globalization.CultureInfo.InvariantCulture), reference,
                        candidate.Decode(logits.Span, logits.Size(0)));
                });
                trials.Add(new LanguageModelTrial(alpha, beta, TranscriptionMetrics.From(results)));
            }
        return [.. trials.OrderBy(t => t.Metrics.WordErrorRate).ThenBy(t => t.Metrics.CharacterErrorRate)];
    }
}
