using System.Diagnostics;
using NAudio.Dsp;
using NAudio.Wave;
using NAudio.Wave.SampleProviders;
using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `resample`: our resampler and NAudio's WDL resampler (its sample provider's default mode, and the same resampler in
/// sinc mode) against reference resamplings of the same input (sox VHQ, torchaudio: tools/compare-resamplers.sh),
/// as error energy relative to the reference's in dB, edges excluded; and their speed.
/// `audiodecode`: decoding a compressed file with AudioFile against `ffmpeg -i FILE -f f32le -` (interleaved medians);
/// with --wav, the relative difference between the hidden states of a randomly initialised model of --preset on the
/// decoded file and on the WAV it was encoded from.
/// </summary>
internal static class AudioBenchmark
{
    public static int RunResample(BenchmarkOptions options)
    {
        if (options.Positional.Count < 2)
            throw new BenchmarkUsageException("resample INPUT.wav REFERENCE.wav... (references at the target rate; see tools/compare-resamplers.sh)");
        AudioClip input = AudioFile.Read(options.Positional[0]);
        int rate = options.Named.TryGetValue("rate", out string? r) ? int.Parse(r) : 16000;
        var candidates = new (string Name, Func<float[]> Run)[]
        {
            ("ours", () => input.ResampleTo(rate).Samples),
            ("naudio_wdl_default", () => AudioFile.Read(new WdlResamplingSampleProvider(new ClipProvider(input), rate)).Samples),
            ("naudio_wdl_sinc", () => WdlSinc(input.Samples, input.SampleRate, rate)),
        };
        double[] seconds = BenchmarkApp.InterleavedMedians(Math.Min(options.Runs, 5), [.. candidates.Select(c => (Action)(() => c.Run()))]);
        foreach (string referencePath in options.Positional.Skip(1))
        {
            float[] reference = AudioFile.Read(referencePath).Samples;
            string errors = string.Join(" ", candidates.Select(c => $"{c.Name}_db={BenchmarkApp.Format(Decibels(c.Run(), reference, rate))}"));
            Console.WriteLine($"resample input={Path.GetFileName(options.Positional[0])} from={input.SampleRate} to={rate} " +
                              $"reference={Path.GetFileName(referencePath)} {errors}");
        }
        Console.WriteLine("resample speed " + string.Join(" ", candidates.Select((c, i) =>
            $"{c.Name}_realtime={BenchmarkApp.Format(input.Seconds / seconds[i])}")));
        return 0;
    }

    public static int RunDecode(BenchmarkOptions options)
    {
        if (options.Positional.Count != 1)
            throw new BenchmarkUsageException("audiodecode FILE [--wav ORIGINAL.wav] [--preset base]");
        string file = options.Positional[0];
        AudioClip clip = null!;
        double[] medians = BenchmarkApp.InterleavedMedians(Math.Min(options.Runs, 5),
            () => clip = AudioFile.Read(file), () => Ffmpeg(file));
        Console.WriteLine($"audiodecode file={Path.GetFileName(file)} seconds={BenchmarkApp.Format(clip.Seconds)} ours_s={BenchmarkApp.Format(medians[0])} " +
                          $"ffmpeg_s={BenchmarkApp.Format(medians[1])} ratio={BenchmarkApp.Format(medians[0] / medians[1])} " +
                          $"ours_realtime={BenchmarkApp.Format(clip.Seconds / medians[0])}");
        if (options.Named.TryGetValue("wav", out string? wav))
        {
            Wav2Vec2Config config = options.PresetConfig();
            var model = new Wav2Vec2Model(config, new RandomSource(0));
            model.Train(false);
            AudioClip original = AudioFile.Read(wav);
            int seconds = (int)Math.Min(30, Math.Min(clip.Seconds, original.Seconds));   // the same span of both
            Tensor a = model.ExtractFeatures(Cut(clip, seconds)), b = model.ExtractFeatures(Cut(original, seconds));
            double difference = 0, norm = 0;
            ReadOnlySpan<float> x = a.Span, y = b.Span;
            for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
            {
                difference += (x[i] - y[i]) * (double)(x[i] - y[i]);
                norm += y[i] * (double)y[i];
            }
            Console.WriteLine($"audiodecode features preset={options.Preset} seconds={seconds} " +
                              $"relative_difference={BenchmarkApp.Format(Math.Sqrt(difference / norm))}");
        }
        return 0;
    }

    private static AudioClip Cut(AudioClip clip, int seconds) => new(clip.Samples[..(seconds * clip.SampleRate)], clip.SampleRate);

    private static void Ffmpeg(string file)
    {
        var start = new ProcessStartInfo("ffmpeg", ["-v", "error", "-i", file, "-f", "f32le", "-"]) { RedirectStandardOutput = true };
        using Process process = Process.Start(start) ?? throw new BenchmarkUsageException("ffmpeg is not installed");
        process.StandardOutput.BaseStream.CopyTo(Stream.Null);
        process.WaitForExit();
    }

    // NAudio's WdlResampler in its windowed-sinc mode (64 taps, 32 interpolated phases), driven output-first.
    private static float[] WdlSinc(float[] input, int from, int to)
    {
        var resampler = new WdlResampler();
        resampler.SetMode(true, 0, true, 64, 32);
        resampler.SetFilterParms(0.693f, 0.707f);
        resampler.SetFeedMode(false);
        resampler.SetRates(from, to);
        long total = (long)input.Length * to / from;
        var output = new float[total];
        int done = 0, read = 0;
        while (done < total)
        {
            int want = (int)Math.Min(4096, total - done);
            int need = resampler.ResamplePrepare(want, 1, out Span<float> inBuffer);
            int have = Math.Min(need, input.Length - read);
            input.AsSpan(read, have).CopyTo(inBuffer);
            read += have;
            int got = resampler.ResampleOut(output.AsSpan(done), have, want, 1);
            if (got == 0)
                break;
            done += got;
        }
        return output;
    }

    private sealed class ClipProvider(AudioClip clip) : ISampleProvider
    {
        private int position;

        public WaveFormat WaveFormat { get; } = WaveFormat.CreateIeeeFloatWaveFormat(clip.SampleRate, 1);

        public int Read(Span<float> buffer)
        {
            int count = Math.Min(buffer.Length, clip.Samples.Length - position);
            clip.Samples.AsSpan(position, count).CopyTo(buffer);
            position += count;
            return count;
        }
    }

    private static double Decibels(float[] candidate, float[] reference, int rate)
    {
        int edge = rate / 50, length = Math.Min(candidate.Length, reference.Length);
        double signal = 0, error = 0;
        for (int i = edge; i < length - edge; i++)
        {
            signal += reference[i] * (double)reference[i];
            error += (candidate[i] - reference[i]) * (double)(candidate[i] - reference[i]);
        }
        return 10 * Math.Log10(error / signal);
    }
}
