using System.Globalization;
using Wav2Vec2.Autograd;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// `forward --preset base --seconds 10`: inference of a randomly initialised backbone on random audio (evaluation
/// mode, no tape), the same work as torchaudio's wav2vec2_base forward in shared/tools/reference_speed.py.
/// </summary>
internal static class ForwardBenchmark
{
    public static int Run(BenchmarkOptions options)
    {
        string preset = options.Preset;
        double seconds = options.Seconds(10);
        Wav2Vec2Config config = options.PresetConfig();
        BenchmarkApp.RequireBaseForReference(options);
        var model = new Wav2Vec2Model(config, new RandomSource(0));
        model.Train(false);
        int samples = (int)(seconds * 16000);
        Tensor input = Tensor.FromArray(BenchmarkApp.NoiseAudio(samples, 1), 1, samples);
        Action Step = Forward(model, input);
        if (options.Precision() != Wav2Vec2.Nn.Precision.Float32)
            return CompareReduced(options, model, input);
        if (options.Named.TryGetValue("family", out string? family))
            return CompareFamily(options, config, family, Step, input);
        if (options.Profile)
        {
            ProfileReport.Run($"forward preset={preset} seconds={BenchmarkApp.Format(seconds)}", Step, options.Runs);
            return 0;
        }
        string line = $"forward preset={preset} seconds={BenchmarkApp.Format(seconds)} threads={options.Threads}";
        double median;
        if (options.ReferenceOrt)
        {
            // ONNX Runtime on our export; with --ort-torchaudio also on torchaudio's export of the same weights.
            using var ort = OrtReference.Create(model, options.Threads);
            using OrtReference? torchaudio = options.Named.ContainsKey("ort-torchaudio") ? OrtReference.Create(model, options.Threads, torchaudio: true) : null;
            float[] audio = input.ToArray();
            line += $" ort_max_abs_diff={MaxDifference(model, input, ort.Run(audio)):0.##e+0}";
            Action[] steps = torchaudio == null ? [Step, () => ort.Run(audio)] : [Step, () => ort.Run(audio), () => torchaudio.Run(audio)];
            double[] medians = BenchmarkApp.InterleavedMediansWithOtherEngines(options.Runs, steps);
            median = medians[0];
            line += $" ort_median_s={BenchmarkApp.Format(medians[1])} ort_ratio={BenchmarkApp.Format(median / medians[1])}";
            if (torchaudio != null)
                line += $" ort_torchaudio_export_median_s={BenchmarkApp.Format(medians[2])} our_export_vs_torchaudio_export={BenchmarkApp.Format(medians[1] / medians[2])}";
        }
        else
            median = BenchmarkApp.MedianSeconds(Step, options.Runs);
        if (options.Reference)
        {
            double reference = ReferenceRunner.Measure("forward", BenchmarkApp.Format(seconds));
            line += $" reference_median_s={BenchmarkApp.Format(reference)} ratio={BenchmarkApp.Format(median / reference)}";
        }
        Console.WriteLine($"{line} median_s={BenchmarkApp.Format(median)}");
        return 0;
    }

    private static Action Forward(Wav2Vec2Model model, Tensor input) => () =>
    {
        using var arena = new TensorArena();
        using var _ = Tape.NoGrad();
        model.Forward(input);
    };

    // --family F: the preset's architecture as family F (e.g. WavLM Base+ is BASE with the gated relative position
    // bias) against the wav2vec2 model of the same size, interleaved in one process.
    private static int CompareFamily(BenchmarkOptions options, Wav2Vec2Config config, string family, Action wav2vec2, Tensor input)
    {
        Wav2Vec2Config other = config.Clone();
        other.ModelType = family;
        try
        {
            other.Validate("--family");
        }
        catch (InvalidDataException e)
        {
            throw new BenchmarkUsageException(e.Message);
        }
        var model = new Wav2Vec2Model(other, new RandomSource(0));
        model.Train(false);
        Action step = Forward(model, input);
        if (options.Profile)
        {
            ProfileReport.Run($"forward preset={options.Preset} family={family}", step, options.Runs);
            return 0;
        }
        double[] medians = BenchmarkApp.InterleavedMedians(options.Runs, wav2vec2, step);
        Console.WriteLine($"forward preset={options.Preset} seconds={BenchmarkApp.Format(options.Seconds(10))} threads={options.Threads} " +
                          $"family={family} family_median_s={BenchmarkApp.Format(medians[1])} wav2vec2_median_s={BenchmarkApp.Format(medians[0])} " +
                          $"family_ratio={BenchmarkApp.Format(medians[1] / medians[0])}");
        return 0;
    }

    // --precision int8|bf16: that model against the same weights in fp32 (and ONNX Runtime fp32 on our export with
    // --reference-ort), interleaved; its output's cosine and relative error against fp32 on the benchmark input.
    private static int CompareReduced(BenchmarkOptions options, Wav2Vec2Model fp32, Tensor input)
    {
        var reduced = new Wav2Vec2Model(fp32.Config, new RandomSource(0));
        reduced.Train(false);
        reduced.UsePrecision(options.Precision());
        string name = options.Named["precision"];
        string line = $"forward preset={options.Preset} seconds={BenchmarkApp.Format(options.Seconds(10))} threads={options.Threads} precision={name}";
        if (options.Profile)
        {
            ProfileReport.Run(line, Forward(reduced, input), options.Runs);
            return 0;
        }
        // Per hidden state (0 = the Transformer's input): cosine and relative error against fp32.
        (double Cosine, double Relative)[] layers = Agreement(fp32, reduced, input);
        line += $" {name}_cosine_by_layer={string.Join(",", layers.Select(l => l.Cosine.ToString("0.#####", CultureInfo.InvariantCulture)))}" +
                $" {name}_relative_error_by_layer={string.Join(",", layers.Select(l => l.Relative.ToString("0.####", CultureInfo.InvariantCulture)))}";
        using OrtReference? ort = options.ReferenceOrt ? OrtReference.Create(fp32, options.Threads) : null;
        float[] audio = input.ToArray();
        Action[] steps = ort == null ? [Forward(reduced, input), Forward(fp32, input)] : [Forward(reduced, input), Forward(fp32, input), () => ort.Run(audio)];
        double[] medians = ort == null ? BenchmarkApp.InterleavedMedians(options.Runs, steps)
            : BenchmarkApp.InterleavedMediansWithOtherEngines(options.Runs, steps);
        line += $" fp32_median_s={BenchmarkApp.Format(medians[1])} {name}_vs_fp32={BenchmarkApp.Format(medians[0] / medians[1])}";
        if (ort != null)
            line += $" ort_fp32_median_s={BenchmarkApp.Format(medians[2])} {name}_vs_ort_fp32={BenchmarkApp.Format(medians[0] / medians[2])}";
        Console.WriteLine($"{line} median_s={BenchmarkApp.Format(medians[0])}");
        return 0;
    }

    private static (double Cosine, double Relative)[] Agreement(Wav2Vec2Model fp32, Wav2Vec2Model reduced, Tensor input)
    {
        using var arena = new TensorArena();
        using var _ = Tape.NoGrad();
        var options = new Wav2Vec2ForwardOptions { OutputHiddenStates = true };
        IReadOnlyList<Tensor> expected = fp32.Forward(input, options).HiddenStates, actual = reduced.Forward(input, options).HiddenStates;
        return [.. expected.Zip(actual, (e, a) => Int8AccuracyBenchmark.Compare(e.Span, a.Span))];
    }

    // Largest |ours - ONNX Runtime| over the last hidden state of the benchmark's input.
    private static float MaxDifference(Wav2Vec2Model model, Tensor input, float[] reference)
    {
        using var arena = new TensorArena();
        using var _ = Tape.NoGrad();
        float[] ours = model.Forward(input).LastHiddenState.ToArray();
        if (ours.Length != reference.Length)
            throw new BenchmarkUsageException($"ONNX Runtime returned {reference.Length} values, we have {ours.Length}");
        float max = 0;
        for (int i = 0; i < ours.Length; i++)
            max = MathF.Max(max, MathF.Abs(ours[i] - reference[i]));
        return max;
    }
}
