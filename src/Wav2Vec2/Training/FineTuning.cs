using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.Data;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Training;

/// <summary>What the fine-tuners (CTC, sequence classification) share: starting a task model from a pre-trained
/// directory, and the forward options of a training batch (padding, masks, conv encoder gradient).</summary>
internal static class FineTuning
{
    /// <summary>
    /// Loads <paramref name="model"/>'s weights from <paramref name="directory"/>: the whole model when
    /// <paramref name="keepHead"/> (a checkpoint of this very head, which continues), else the backbone alone with the
    /// head's tensors reported missing (a pre-training, backbone or other task checkpoint: its head is ignored and
    /// reported). Then reads the directory's preprocessor_config.json into the backbone.
    /// </summary>
    /// <exception cref="InvalidDataException">The directory holds no complete wav2vec 2.0 backbone.</exception>
    public static LoadReport Load(Module model, Wav2Vec2Model backbone, string directory, bool keepHead, IReadOnlyList<string> headPrefixes)
    {
        bool IsHead(string name) => headPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));
        LoadReport report;
        if (keepHead)
            report = PretrainedDirectory.LoadWeights(model, directory, strict: false);
        else
        {
            LoadReport loaded = PretrainedDirectory.LoadWeights(backbone, directory, strict: false);
            report = loaded with { Missing = [.. loaded.Missing, .. model.NamedParameters().Select(p => p.Name).Where(IsHead)] };
        }
        // A new head and a mask embedding the checkpoint may lack are expected; any other missing tensor is not.
        string[] backboneMissing = report.Missing.Where(n => !IsHead(n) && !n.EndsWith("masked_spec_embed", StringComparison.Ordinal)).ToArray();
        if (backboneMissing.Length > 0)
            throw new InvalidDataException($"{directory}: not a complete wav2vec 2.0 backbone ({backboneMissing.Length} " +
                $"tensor(s) missing, e.g. {backboneMissing[0]})");
        backbone.Preprocessor = InputValuesPreprocessor.Load(Path.Combine(directory, "preprocessor_config.json"));
        return report;
    }

    /// <summary>
    /// The forward options of a training batch: its valid lengths (padded group-norm batches allowed, as fairseq),
    /// the conv encoder's gradient scale, time masks over each utterance's valid frames and channel masks, drawn from
    /// <paramref name="random"/> when their probabilities are positive.
    /// </summary>
    public static Wav2Vec2ForwardOptions BatchOptions(LoadedBatch batch, Wav2Vec2Model backbone, RegularizationOptions regularization,
        RandomSource random)
    {
        int size = batch.BatchSize, frames = backbone.FrameCount(batch.Length);
        int[] frameLengths = batch.SampleLengths.Select(backbone.FrameCount).ToArray();
        RegularizationOptions r = regularization;
        return new Wav2Vec2ForwardOptions
        {
            SampleLengths = batch.SampleLengths,
            AllowPaddedGroupNorm = true,
            FeatureGradScale = r.FeatureGradMult,
            MaskTimeIndices = r.MaskTimeProb > 0 ? SpanMasking.ComputeMaskIndices(size, frames, r.MaskTimeProb, r.MaskTimeLength,
                r.MaskTimeMinMasks, random, frameLengths) : null,
            MaskFeatureIndices = r.MaskFeatureProb > 0 ? SpanMasking.ComputeMaskIndices(size, backbone.Config.HiddenSize,
                r.MaskFeatureProb, r.MaskFeatureLength, 0, random) : null,
        };
    }

    /// <summary>
    /// Encodes the label of every entry with <paramref name="encode"/> (which throws on a bad label, naming the file) and
    /// keeps, when <paramref name="skipUnfit"/>, only the entries that <paramref name="fits"/> accepts (the rest are
    /// counted), as a dataset whose i-th entry has label i.
    /// </summary>
    public static (AudioDataset Usable, T[] Labels, int Skipped) Encode<T>(AudioDataset data, Func<AudioEntry, T> encode,
        Func<AudioEntry, T, bool> fits, bool skipUnfit)
    {
        var labels = new List<T>();
        var keep = new HashSet<AudioEntry>(ReferenceEqualityComparer.Instance);
        int skipped = 0;
        foreach (AudioEntry entry in data.Entries)
        {
            T label = encode(entry);
            if (skipUnfit && !fits(entry, label))
            {
                skipped++;
                continue;
            }
            keep.Add(entry);
            labels.Add(label);
        }
        return (data.Where(keep.Contains), [.. labels], skipped);
    }

    /// <summary>Frames the entry's audio gives at the model's rate.</summary>
    public static int Frames(AudioEntry entry, Wav2Vec2Model backbone) =>
        backbone.FrameCount((int)Math.Min((long)(entry.Samples * (double)backbone.Preprocessor.SamplingRate / entry.SampleRate), int.MaxValue));

    /// <summary>Runs <paramref name="score"/> on each entry's input values (1, samples), one at a time, in evaluation mode
    /// without a tape, and restores the model's mode.</summary>
    public static void Evaluate(Module model, Wav2Vec2Model backbone, AudioDataset data, Action<int, Tensor> score)
    {
        bool training = model.Training;
        model.Train(false);
        try
        {
            for (int i = 0; i < data.Entries.Count; i++)
            {
                using var arena = new TensorArena();
                using var noGrad = Tape.NoGrad();
                float[] input = backbone.Preprocessor.Prepare(data.Entries[i].Read());
                score(i, Tensor.FromArray(input, 1, input.Length));
            }
        }
        finally
        {
            model.Train(training);
        }
    }
}
