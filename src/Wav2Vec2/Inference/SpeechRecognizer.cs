using Wav2Vec2.Audio;
using Wav2Vec2.Data;
using Wav2Vec2.Decoding;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Inference;

/// <summary>
/// Speech to text: a CTC model (<see cref="Wav2Vec2ForCtc"/>) and a decoder (greedy by default). Long recordings run
/// in overlapping windows (<see cref="ChunkingOptions"/>), so memory stays bounded. Safe to share between threads.
/// </summary>
/// <example><code>
/// var recognizer = SpeechRecognizer.FromPretrained("wav2vec2-base-960h");
/// string text = recognizer.Transcribe(AudioFile.Read("speech.flac"));
/// </code></example>
public sealed class SpeechRecognizer
{
    /// <summary>Pairs <paramref name="model"/> with <paramref name="decoder"/> (default: greedy over the model's vocabulary).</summary>
    /// <exception cref="InvalidOperationException">No decoder is given and the model has no vocabulary.</exception>
    public SpeechRecognizer(Wav2Vec2ForCtc model, ICtcDecoder? decoder = null)
    {
        Model = model;
        Decoder = decoder ?? new GreedyCtcDecoder(model.Tokenizer
            ?? throw new InvalidOperationException("the model has no vocabulary (vocab.json) to transcribe with"));
    }

    /// <summary>The acoustic model.</summary>
    public Wav2Vec2ForCtc Model { get; }

    /// <summary>How logits become text.</summary>
    public ICtcDecoder Decoder { get; }

    /// <summary>
    /// Loads a Hugging Face Wav2Vec2ForCTC directory (weights, config.json, vocab.json) with the decoder that
    /// <paramref name="decoding"/> describes (default: greedy); an MMS model is switched to <paramref name="language"/>
    /// (<see cref="Wav2Vec2ForCtc.LoadAdapter"/>), which it needs.
    /// </summary>
    /// <exception cref="FileNotFoundException">The directory has no vocab.json, or a decoder file does not exist.</exception>
    /// <exception cref="InvalidDataException">A multilingual model and no language, or a language it has no adapter for.</exception>
    public static SpeechRecognizer FromPretrained(string directory, CtcDecoderSettings? decoding = null, string? language = null)
    {
        var model = Wav2Vec2ForCtc.WithVocabulary(directory, language, "transcribe");
        return new SpeechRecognizer(model, (decoding ?? new CtcDecoderSettings()).Create(model.Tokenizer!));
    }

    /// <summary>The transcript of <paramref name="audio"/> (any rate; resampled and normalised as the model expects).</summary>
    public string Transcribe(AudioClip audio, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default)
    {
        Tensor logits = Model.Logits(audio, chunking, null, cancellationToken);
        return Decoder.Decode(logits.Span, logits.Size(0));
    }

    /// <summary>
    /// The transcript with the time of each word and token (Hugging Face's <c>return_timestamps="word"</c> and
    /// <c>"char"</c>; frames counted over the whole recording, long audio in windows) and a score per word and token.
    /// </summary>
    /// <example><code>
    /// TimedTranscript timed = recognizer.TranscribeWithTimestamps(AudioFile.Read("talk.flac"));
    /// File.WriteAllText("talk.srt", timed.ToSrt());
    /// </code></example>
    public TimedTranscript TranscribeWithTimestamps(AudioClip audio, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default)
    {
        Tensor logits = Model.Logits(audio, chunking, null, cancellationToken);
        return Decoder.DecodeWithTimestamps(logits.Span, logits.Size(0), Model.Backbone.SecondsPerFrame);
    }

    /// <summary>The transcript of an audio file (WAV, FLAC, MP3, Ogg Vorbis or Opus, AIFF; see <see cref="AudioFile"/>).</summary>
    public string Transcribe(string path, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default) =>
        Transcribe(AudioFile.Read(path), chunking, cancellationToken);

    /// <summary>The transcript of NAudio audio (a file reader, a mixer, a capture), read to its end without a temporary file.</summary>
    /// <example><code>
    /// using var reader = new WaveFileReader("call.wav");
    /// string text = recognizer.Transcribe(reader.ToSampleProvider());
    /// </code></example>
    public string Transcribe(NAudio.Wave.ISampleProvider audio, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default) =>
        Transcribe(AudioFile.Read(audio), chunking, cancellationToken);

    /// <summary>Transcribes on a worker thread.</summary>
    public Task<string> TranscribeAsync(AudioClip audio, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Transcribe(audio, chunking, cancellationToken), cancellationToken);

    /// <summary>
    /// Transcribes every entry of <paramref name="data"/> (which needs transcripts) one at a time, in dataset order,
    /// reporting progress as the fraction done.
    /// </summary>
    /// <example><code>
    /// var (metrics, results) = recognizer.Evaluate(AudioDataset.OpenTranscribed("dev"));
    /// Console.WriteLine($"WER {metrics.WordErrorRate:P2}, CER {metrics.CharacterErrorRate:P2}");
    /// TranscriptionResult.WriteTsv("dev-results.tsv", results);
    /// </code></example>
    /// <exception cref="ArgumentException">An entry has no transcript.</exception>
    public (TranscriptionMetrics Metrics, IReadOnlyList<TranscriptionResult> Results) Evaluate(AudioDataset data, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        var results = new List<TranscriptionResult>(data.Entries.Count);
        foreach (AudioEntry entry in data.Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string reference = entry.Transcript ?? throw new ArgumentException($"{entry.Path}: no transcript to score against");
            string hypothesis = Transcribe(entry.Read(), cancellationToken: cancellationToken);
            results.Add(TranscriptionResult.Score(Path.GetFileNameWithoutExtension(entry.Path), reference, hypothesis));
            progress?.Report((double)results.Count / data.Entries.Count);
        }
        return (TranscriptionMetrics.From(results), results);
    }
}
