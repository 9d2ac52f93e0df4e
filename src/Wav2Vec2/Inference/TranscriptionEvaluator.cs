using Wav2Vec2.Data;
using Wav2Vec2.Decoding;

namespace Wav2Vec2.Inference;

/// <summary>Transcribes a labeled dataset and scores it (WER, CER and their parts, per utterance and pooled).</summary>
/// <example><code>
/// var recognizer = SpeechRecognizer.FromPretrained("run/best");
/// var (metrics, results) = TranscriptionEvaluator.Evaluate(recognizer, AudioDataset.OpenTranscribed("dev"));
/// Console.WriteLine($"WER {metrics.WordErrorRate:P2}, CER {metrics.CharacterErrorRate:P2}");
/// </code></example>
public static class TranscriptionEvaluator
{
    /// <summary>
    /// Transcribes every entry of <paramref name="data"/> (which needs transcripts) one at a time, in dataset order,
    /// reporting progress as the fraction done.
    /// </summary>
    /// <exception cref="ArgumentException">An entry has no transcript.</exception>
    public static (TranscriptionMetrics Metrics, IReadOnlyList<TranscriptionResult> Results) Evaluate(SpeechRecognizer recognizer,
        AudioDataset data, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        var results = new List<TranscriptionResult>(data.Entries.Count);
        foreach (AudioEntry entry in data.Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string reference = entry.Transcript ?? throw new ArgumentException($"{entry.Path}: no transcript to score against");
            string hypothesis = recognizer.Transcribe(entry.Read(), cancellationToken: cancellationToken);
            results.Add(TranscriptionResult.Score(Path.GetFileNameWithoutExtension(entry.Path), reference, hypothesis));
            progress?.Report((double)results.Count / data.Entries.Count);
        }
        return (TranscriptionMetrics.From(results), results);
    }
}
