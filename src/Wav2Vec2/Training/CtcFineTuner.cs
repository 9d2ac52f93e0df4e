using System.Globalization;
using System.Text.Json.Nodes;
using Wav2Vec2.Autograd;
using Wav2Vec2.Data;
using Wav2Vec2.Decoding;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Training;

/// <summary>The figures of one fine-tuning batch.</summary>
/// <param name="Loss">Summed CTC loss (nats) of the batch's utterances.</param>
/// <param name="Utterances">Utterances in the batch.</param>
/// <param name="Tokens">Label tokens in the batch.</param>
internal sealed record CtcBatchMetrics(double Loss, int Utterances, int Tokens);

/// <summary>
/// CTC fine-tuning of a pre-trained wav2vec 2.0 model into a speech recognizer, as fairseq's wav2vec2_asr recipe does
/// (see <see cref="CtcFineTuningOptions"/>), on the shared training loop: labels from normalised transcripts
/// (<see cref="TranscriptNormalizer"/>), utterances whose labels cannot fit their frames skipped and counted, time and
/// channel masking, the backbone frozen for the first updates, the CTC loss summed over utterances and divided by
/// their number, the tri-stage schedule (update k trains at the rate set after update k - 1, as fairseq), validation
/// by CTC loss and greedy WER/CER with the best model by WER (or CER: <see cref="CtcFineTuningOptions.BestModelMetric"/>)
/// kept in best/, and exact resume. checkpoint-N/, best/ and final/ are Hugging Face Wav2Vec2ForCTC directories
/// (weights, config.json, preprocessor_config.json, vocab.json, tokenizer_config.json, special_tokens_map.json).
/// </summary>
/// <example><code>
/// CtcFineTuningOptions options = CtcFineTuningOptions.Presets["tiny"];
/// AudioDataset train = AudioDataset.OpenTranscribed("data/train"), dev = AudioDataset.OpenTranscribed("data/dev");
/// var model = CtcFineTuner.CreateModel("pretrained", CtcFineTuner.BuildVocabulary(train), options, out _);
/// new CtcFineTuner(model, options, "run").Train(train, dev);   // run/best is the recognizer
/// </code></example>
public sealed class CtcFineTuner : Trainer, ITrainingTask<CtcBatchMetrics>
{
    private readonly Wav2Vec2ForCtc _model;
    private readonly CtcTokenizer _tokenizer;
    private readonly CtcFineTuningOptions _options;
    private int[][] _labels = [];

    /// <summary>Prepares a run writing to <paramref name="runDirectory"/>; <paramref name="model"/> needs a vocabulary.</summary>
    /// <exception cref="ArgumentException">The model has no tokenizer, its head does not match the vocabulary, or a
    /// setting is out of range.</exception>
    public CtcFineTuner(Wav2Vec2ForCtc model, CtcFineTuningOptions options, string runDirectory)
    {
        options.Validate();
        _tokenizer = model.Tokenizer ?? throw new ArgumentException("the model needs a vocabulary (Tokenizer) to fine-tune");
        if (_tokenizer.Count != model.Config.VocabSize || _tokenizer.PadId != model.Config.PadTokenId)
            throw new ArgumentException($"the vocabulary ({_tokenizer.Count} tokens, pad {_tokenizer.PadId}) does not match the " +
                $"CTC head (vocab_size {model.Config.VocabSize}, pad_token_id {model.Config.PadTokenId})");
        _model = model;
        _options = options;
        if (options.AdapterLanguage is string language)
        {
            if (model.Config.AdapterAttnDim == null || !model.Config.DoStableLayerNorm)
                throw new ArgumentException($"adapter fine-tuning ({language}) needs a model with language adapters (config.json adapter_attn_dim, pre-LN layers)");
            model.TargetLanguage = language;
        }
        Start(model, this, options, runDirectory, options.AdapterLanguage == null ? null : model.AdapterParameters());
    }

    /// <summary>The model being trained (its weights are the newest update's).</summary>
    public Wav2Vec2ForCtc Model => _model;

    /// <summary>
    /// The run setup the command line and ML.NET share: a run directory that holds no other run's checkpoints unless
    /// <paramref name="resume"/>; the vocabulary (<paramref name="vocabulary"/>, else the resumed checkpoint's, else
    /// <paramref name="pretrainedDirectory"/>'s vocab.json, else one built from the training transcripts); the model
    /// (<see cref="CreateModel"/>); and the fine-tuner, resumed from the newest checkpoint when asked. Reports each choice
    /// through <paramref name="log"/>.
    /// </summary>
    /// <example><code>
    /// AudioDataset train = AudioDataset.OpenTranscribed("data/train"), dev = AudioDataset.OpenTranscribed("data/dev");
    /// CtcFineTuner tuner = CtcFineTuner.Prepare("pretrained", train, CtcFineTuningOptions.Presets["tiny"], "run");
    /// tuner.Train(train, dev);   // run/best is the recognizer
    /// </code></example>
    /// <exception cref="RunDirectoryInUseException">The run directory holds checkpoints and <paramref name="resume"/> is false.</exception>
    /// <exception cref="InvalidDataException">The directory holds no complete wav2vec 2.0 backbone.</exception>
    public static CtcFineTuner Prepare(string pretrainedDirectory, AudioDataset train, CtcFineTuningOptions options, string runDirectory,
        bool resume = false, CtcTokenizer? vocabulary = null, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        CheckpointStore.CheckNewRun(runDirectory, resume);
        pretrainedDirectory = PretrainedDirectory.Resolve(pretrainedDirectory);
        vocabulary ??= Vocabulary(resume ? new CheckpointStore(runDirectory, 0).Latest() : null, pretrainedDirectory, train, log);
        Wav2Vec2ForCtc model = CreateModel(pretrainedDirectory, vocabulary, options, out LoadReport report);
        log(Initialised(pretrainedDirectory, report, $"CTC head of {vocabulary.Count} tokens"));
        return Resumed(new CtcFineTuner(model, options, runDirectory), resume, log);
    }

    // The resumed checkpoint's vocabulary, else the pre-trained model's own, else the training transcripts' (also for a
    // multilingual MMS model: a new language brings its own).
    private static CtcTokenizer Vocabulary(string? checkpoint, string pretrainedDirectory, AudioDataset train, Action<string> log)
    {
        foreach (string? directory in new[] { checkpoint, pretrainedDirectory })
            if (directory != null && File.Exists(Path.Combine(directory, "vocab.json")) && CtcTokenizer.Languages(directory).Count == 0)
            {
                log($"vocabulary: {Path.Combine(directory, "vocab.json")}");
                return CtcTokenizer.Load(directory);
            }
        CtcTokenizer built = BuildVocabulary(train);
        log($"vocabulary: {built.Count} tokens built from the training transcripts");
        return built;
    }

    /// <summary>The vocabulary of a labeled dataset's normalised transcripts (Hugging Face layout, see <see cref="CtcTokenizer.FromTranscripts"/>).</summary>
    public static CtcTokenizer BuildVocabulary(AudioDataset train) =>
        CtcTokenizer.FromTranscripts(train.Entries.Select(e => TranscriptNormalizer.Normalize(e.Transcript ?? "")));

    /// <summary>
    /// A CTC model to fine-tune: the backbone of <paramref name="pretrainedDirectory"/> (a wav2vec 2.0 backbone,
    /// pre-training or CTC checkpoint; its heads are ignored and reported, except a CTC head trained on this very
    /// vocabulary, which continues), a new lm_head of the vocabulary's size (Hugging Face's initialisation) otherwise,
    /// and config.json's regularisation and masking set from <paramref name="options"/> (kept in the saved config.json,
    /// as transformers does).
    /// </summary>
    /// <exception cref="InvalidDataException">The directory holds no complete wav2vec 2.0 backbone.</exception>
    public static Wav2Vec2ForCtc CreateModel(string pretrainedDirectory, CtcTokenizer tokenizer, CtcFineTuningOptions options,
        out LoadReport report)
    {
        pretrainedDirectory = PretrainedDirectory.Resolve(pretrainedDirectory);
        Wav2Vec2Config config = options.Regularization.ApplyTo(PretrainedDirectory.LoadConfig(pretrainedDirectory));
        (config.VocabSize, config.PadTokenId) = (tokenizer.Count, tokenizer.PadId);
        (config.CtcLossReduction, config.CtcZeroInfinity) = (Reduction.Sum, true);
        var model = new Wav2Vec2ForCtc(config, new RandomSource(options.Run.Seed)) { Tokenizer = tokenizer };
        // A CTC checkpoint's head is kept only when it was trained on this very vocabulary.
        report = FineTuning.Load(model, model.Backbone, pretrainedDirectory, SameVocabulary(pretrainedDirectory, tokenizer),
            Wav2Vec2ForCtc.HeadTensorPrefixes);
        return model;
    }

    private static bool SameVocabulary(string directory, CtcTokenizer tokenizer)
    {
        if (!File.Exists(Path.Combine(directory, "vocab.json")) || CtcTokenizer.Languages(directory).Count > 0)
            return false;   // none, or one per language (MMS: a new language gets a new head)
        CtcTokenizer stored = CtcTokenizer.Load(directory);
        return stored.Count == tokenizer.Count && Enumerable.Range(0, stored.Count).All(i => stored.Token(i) == tokenizer.Token(i));
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">A training transcript has characters outside the vocabulary (the file and
    /// the characters are named), or no training utterance fits. Validation transcripts score such characters as
    /// &lt;unk&gt; (a warning names them).</exception>
    public override void Train(AudioDataset train, AudioDataset? valid = null, CancellationToken cancellationToken = default)
    {
        (AudioDataset usable, _labels, int skipped) = PrepareLabels(train);
        SkippedUtterances = skipped;
        if (skipped > 0)
            Log($"warning: skipped {skipped} training utterance(s) whose transcript needs more frames than the audio gives");
        if (usable.Entries.Count == 0)
            throw new InvalidDataException("no training utterance is long enough for its transcript");
        if (valid != null)
            WarnAboutUnknownCharacters(valid, "validation");
        Log(string.Create(CultureInfo.InvariantCulture, $"{usable.Entries.Count} training utterances ({usable.TotalSeconds / 60:F1} min), " +
            $"{_tokenizer.Count} tokens, {_model.ParameterCount():N0} parameters, {_options.Optimization.MaxUpdates} updates"));
        Loop.Run(usable, valid, cancellationToken);
    }

    /// <summary>
    /// Greedy WER/CER and CTC loss of the model on a labeled dataset, one utterance at a time, as validation logs them:
    /// "loss" (bits per utterance), "wer", "cer", word "substitutions", "deletions" and "insertions", "reference_words",
    /// "reference_characters", "utterances"; transcript
    /// characters outside the vocabulary count as &lt;unk&gt; in the loss (the model cannot write them).
    /// </summary>
    private protected override IReadOnlyDictionary<string, double> EvaluateMetrics(AudioDataset data)
    {
        (AudioDataset usable, int[][] labels, _) = PrepareLabels(data, skipUnfit: false, unknown: new HashSet<char>());
        var decoder = new GreedyCtcDecoder(_tokenizer);
        var results = new List<TranscriptionResult>();
        double loss = 0;
        FineTuning.Evaluate(_model, _model.Backbone, usable, (i, input) =>
        {
            CtcOutput output = _model.Forward(input, [labels[i]]);
            loss += output.Loss!.ToScalar();
            string hypothesis = decoder.Decode(output.Logits.Span, output.Logits.Size(1));
            results.Add(TranscriptionResult.Score(Path.GetFileNameWithoutExtension(usable.Entries[i].Path), usable.Entries[i].Transcript!, hypothesis));
        });
        var m = TranscriptionMetrics.From(results);
        return new Dictionary<string, double>
        {
            ["loss"] = Math.Round(loss / Math.Max(1, results.Count) / Math.Log(2), 6), ["wer"] = Math.Round(m.WordErrorRate, 6),
            ["cer"] = Math.Round(m.CharacterErrorRate, 6), ["substitutions"] = m.Words.Substitutions, ["deletions"] = m.Words.Deletions,
            ["insertions"] = m.Words.Insertions, ["reference_words"] = m.Words.ReferenceLength,
            ["reference_characters"] = m.Characters.ReferenceLength, ["utterances"] = m.Utterances,
        };
    }

    private void WarnAboutUnknownCharacters(AudioDataset data, string what)
    {
        var unknown = new SortedSet<char>();
        PrepareLabels(data, skipUnfit: false, unknown);   // also fails now, not at the first validation, on a missing transcript
        if (unknown.Count > 0)
            Log($"warning: {what} transcripts have characters outside the vocabulary ({string.Join(" ", unknown.Select(c => $"'{c}'"))}): " +
                "the model cannot write them; the loss counts them as <unk>");
    }

    // Encodes every transcript (characters outside the vocabulary fail, or become <unk> and go to unknown when it is
    // given); drops (and counts) utterances whose labels need more frames than they have.
    private (AudioDataset Usable, int[][] Labels, int Skipped) PrepareLabels(AudioDataset data, bool skipUnfit = true,
        ICollection<char>? unknown = null) =>
        FineTuning.Encode(data, entry =>
        {
            string text = _tokenizer.Normalize(entry.Transcript
                ?? throw new InvalidDataException($"{entry.Path}: no transcript (fine-tuning needs labeled data)"));
            try
            {
                return unknown == null ? _tokenizer.Encode(text) : _tokenizer.EncodeAllowingUnknown(text, unknown);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{entry.Path}: transcript has {e.Message}");
            }
        }, (entry, ids) =>
        {
            int repeats = ids.Skip(1).Where((id, i) => id == ids[i]).Count();   // repeated labels need a blank between
            return FineTuning.Frames(entry, _model.Backbone) >= Math.Max(1, ids.Length + repeats);
        }, skipUnfit);

    CtcBatchMetrics ITrainingTask<CtcBatchMetrics>.Step(LoadedBatch batch)
    {
        int size = batch.BatchSize;
        int[][] labels = batch.Entries.Select(i => _labels[i]).ToArray();
        Wav2Vec2ForwardOptions forward = FineTuning.BatchOptions(batch, _model.Backbone, _options.Regularization, MaskRandom);
        _model.FreezeBackbone = _options.AdapterLanguage == null && State.Update < _options.FreezeFineTuneUpdates;
        using var arena = new TensorArena();
        using var tape = new Tape();
        Tensor loss = _model.Forward(Tensor.FromArray(batch.Samples, size, batch.Length), labels, forward).Loss!;
        tape.Backward(loss);
        return new CtcBatchMetrics(loss.ToScalar(), size, labels.Sum(l => l.Length));
    }

    // fairseq's sentence_avg: the summed loss is divided by the number of utterances in the update.
    double ITrainingTask<CtcBatchMetrics>.SampleSize(IReadOnlyList<CtcBatchMetrics> batches) => batches.Sum(b => b.Utterances);

    void ITrainingTask<CtcBatchMetrics>.Describe(IReadOnlyList<CtcBatchMetrics> batches, JsonObject entry, List<string> line)
    {
        double loss = batches.Sum(b => b.Loss);
        int utterances = batches.Sum(b => b.Utterances), tokens = batches.Sum(b => b.Tokens);
        // fairseq logs the loss per utterance (sentence_avg) and per token, in bits.
        entry["loss"] = Math.Round(loss / utterances / Math.Log(2), 6);
        entry["nll_loss"] = Math.Round(loss / Math.Max(1, tokens) / Math.Log(2), 6);
        entry["utterances"] = utterances;
        entry["tokens"] = tokens;
        entry["frozen_backbone"] = _model.FreezeBackbone;
        line.Add(string.Create(CultureInfo.InvariantCulture, $"loss {loss / utterances / Math.Log(2):F3} nll_loss {loss / Math.Max(1, tokens) / Math.Log(2):F3}"));
    }

    IReadOnlyDictionary<string, double> ITrainingTask<CtcBatchMetrics>.Evaluate(AudioDataset data) => EvaluateMetrics(data);

    double? ITrainingTask<CtcBatchMetrics>.Score(IReadOnlyDictionary<string, double> metrics) =>
        metrics[_options.BestModelMetric == BestModelMetric.CharacterErrorRate ? "cer" : "wer"];

    string ITrainingTask<CtcBatchMetrics>.Describe(IReadOnlyDictionary<string, double> metrics) => string.Create(CultureInfo.InvariantCulture,
        $"loss {metrics["loss"]:F3} wer {metrics["wer"]:P2} cer {metrics["cer"]:P2}");

}
