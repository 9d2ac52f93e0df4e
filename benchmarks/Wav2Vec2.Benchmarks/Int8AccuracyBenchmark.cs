using System.Globalization;
using Wav2Vec2.Audio;
using Wav2Vec2.Data;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `int8-accuracy --model DIR --data SET`: what int8 inference costs in accuracy on a fine-tuned model's labeled set,
/// the same weights run in fp32 and in int8: greedy CER and WER of both, the share of frames whose CTC argmax agrees,
/// and per hidden state the mean cosine and relative error of int8 against fp32.
/// </summary>
internal static class Int8AccuracyBenchmark
{
    public static int Run(BenchmarkOptions options)
    {
        string directory = options.Named.GetValueOrDefault("model") ?? throw new BenchmarkUsageException("int8-accuracy needs --model DIR");
        string data = options.Named.GetValueOrDefault("data") ?? throw new BenchmarkUsageException("int8-accuracy needs --data SET");
        var fp32 = Wav2Vec2ForCtc.FromPretrained(directory);
        var int8 = Wav2Vec2ForCtc.FromPretrained(directory);
        int8.UsePrecision(Precision.Int8);
        var decoder = new GreedyCtcDecoder(fp32.Tokenizer ?? throw new BenchmarkUsageException($"{directory} has no vocab.json"));
        AudioDataset dataset = AudioDataset.OpenTranscribed(data);
        int layers = fp32.Config.NumHiddenLayers + 1;
        var cosine = new double[layers];
        var relative = new double[layers];
        long frames = 0, agreeing = 0;
        var results = new List<(TranscriptionResult Fp32, TranscriptionResult Int8)>();
        foreach (AudioEntry entry in dataset.Entries)
        {
            AudioClip clip = AudioFile.Read(entry.Path);
            Tensor a = fp32.Logits(clip), b = int8.Logits(clip);
            int count = a.Size(0);
            agreeing += decoder.BestPath(a.Span, count).Zip(decoder.BestPath(b.Span, count)).Count(p => p.First == p.Second);
            frames += count;
            string id = Path.GetFileNameWithoutExtension(entry.Path);
            results.Add((TranscriptionResult.Score(id, entry.Transcript!, decoder.Decode(a.Span, count)),
                TranscriptionResult.Score(id, entry.Transcript!, decoder.Decode(b.Span, count))));
            int[] all = [.. Enumerable.Range(0, layers)];
            Tensor[] expected = fp32.Backbone.ExtractHiddenStates([clip], all)[0], actual = int8.Backbone.ExtractHiddenStates([clip], all)[0];
            for (int l = 0; l < layers; l++)
            {
                (double c, double r) = Compare(expected[l].Span, actual[l].Span);
                cosine[l] += c / dataset.Entries.Count;
                relative[l] += r / dataset.Entries.Count;
            }
        }
        var before = TranscriptionMetrics.From(results.Select(r => r.Fp32).ToList());
        var after = TranscriptionMetrics.From(results.Select(r => r.Int8).ToList());
        string Join(double[] values, string format) => string.Join(",", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));
        Console.WriteLine($"int8-accuracy model={directory} utterances={dataset.Entries.Count} int8_path={Kernels.Int8Gemm.Effective} " +
                          $"fp32_cer={before.Characters.Rate:0.0000} int8_cer={after.Characters.Rate:0.0000} " +
                          $"fp32_wer={before.Words.Rate:0.0000} int8_wer={after.Words.Rate:0.0000} " +
                          $"argmax_agreement={(double)agreeing / frames:0.0000} " +
                          $"cosine_by_layer={Join(cosine, "0.#####")} relative_error_by_layer={Join(relative, "0.####")}");
        return 0;
    }

    /// <summary>Cosine and relative error (|a - b| / |a|) of <paramref name="b"/> against <paramref name="a"/>.</summary>
    internal static (double Cosine, double Relative) Compare(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0, error = 0;
        for (int i = 0; i < a.Length; i++)
        {
            (dot, na, nb) = (dot + (double)a[i] * b[i], na + (double)a[i] * a[i], nb + (double)b[i] * b[i]);
            error += Math.Pow(a[i] - b[i], 2);
        }
        return (dot / Math.Sqrt(na * nb), Math.Sqrt(error / na));
    }
}
