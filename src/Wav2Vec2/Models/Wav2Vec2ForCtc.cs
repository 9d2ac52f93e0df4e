using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.IO;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>What <see cref="Wav2Vec2ForCtc.Loss"/> returns.</summary>
/// <param name="Loss">The scalar CTC loss (reduced as config.json's ctc_loss_reduction says).</param>
/// <param name="Logits">(batch, frames, vocab_size) logits.</param>
/// <param name="FrameLengths">Valid frames of each utterance.</param>
public sealed record CtcLossOutput(Tensor Loss, Tensor Logits, int[] FrameLengths);

/// <summary>
/// wav2vec 2.0 with a CTC head (Hugging Face Wav2Vec2ForCTC): the backbone under "wav2vec2." and a linear
/// <c>lm_head</c> from hidden_size to vocab_size. Loads published checkpoints such as facebook/wav2vec2-base-960h;
/// Decoding.SpeechRecognizer turns its logits into text, and Training.CtcFineTuner trains it with the CTC loss.
/// </summary>
public sealed class Wav2Vec2ForCtc : Module
{
    private readonly Nn.Linear _lmHead;

    /// <summary>Checkpoint prefixes of this head's tensors (beside the backbone under "wav2vec2.").</summary>
    internal static readonly string[] HeadTensorPrefixes = ["lm_head."];

    /// <summary>Builds a randomly initialised model.</summary>
    public Wav2Vec2ForCtc(Wav2Vec2Config config, RandomSource random)
    {
        Backbone = AddModule(PretrainedDirectory.BackboneName, new Wav2Vec2Model(config, random));
        _lmHead = AddModule("lm_head", new Nn.Linear(config.HiddenSize, config.VocabSize, random, normalStd: config.InitializerRange));
    }

    /// <summary>The wav2vec 2.0 backbone (hidden states).</summary>
    public Wav2Vec2Model Backbone { get; }

    /// <summary>The architecture.</summary>
    public Wav2Vec2Config Config => Backbone.Config;

    /// <summary>Input preparation (sample rate, normalisation), from preprocessor_config.json: the backbone's.</summary>
    public InputValuesPreprocessor Preprocessor
    {
        get => Backbone.Preprocessor;
        set => Backbone.Preprocessor = value;
    }

    /// <summary>The vocabulary (vocab.json), needed to transcribe (see Decoding.SpeechRecognizer) and to fine-tune.</summary>
    public CtcTokenizer? Tokenizer { get; set; }

    /// <summary>Loads a Hugging Face model directory (config.json, weights, preprocessor_config.json, vocab.json).</summary>
    /// <param name="directory">The model directory.</param>
    /// <param name="strict">Require every tensor (see <see cref="CheckpointLoader.Load"/>); false starts a CTC head
    /// from a pre-trained backbone checkpoint, leaving the head randomly initialised.</param>
    public static Wav2Vec2ForCtc FromPretrained(string directory, bool strict = true) =>
        FromPretrained(directory, strict, out _);

    /// <summary>As <see cref="FromPretrained(string, bool)"/>, also reporting missing and ignored tensors.</summary>
    public static Wav2Vec2ForCtc FromPretrained(string directory, bool strict, out LoadReport report)
    {
        var model = PretrainedDirectory.Load(directory, strict, config => new Wav2Vec2ForCtc(config, new RandomSource(0)),
            m => m.Backbone, out report);
        if (File.Exists(Path.Combine(directory, "vocab.json")))
            model.Tokenizer = CtcTokenizer.Load(directory);
        return model;
    }

    /// <summary>
    /// Writes config.json, model.safetensors (Hugging Face names), preprocessor_config.json and, when the model has a
    /// vocabulary, vocab.json, tokenizer_config.json and special_tokens_map.json: a directory that transformers'
    /// Wav2Vec2ForCTC and torchaudio's import_huggingface_model load.
    /// </summary>
    public void SavePretrained(string directory)
    {
        PretrainedDirectory.Save(directory, this, Config, Preprocessor, "Wav2Vec2ForCTC");
        Tokenizer?.Save(directory);
    }

    /// <summary>
    /// Only the CTC head trains: the backbone runs without being recorded for the backward pass, so it gets no gradient
    /// and keeps no activations (fairseq's freeze_finetune_updates phase, Hugging Face's freeze_base_model). Dropout,
    /// layer drop and masking stay active in training mode.
    /// </summary>
    public bool FreezeBackbone { get; set; }

    /// <summary>CTC logits (batch, frames, vocab_size) of normalised input values (batch, samples).</summary>
    public (Tensor Logits, Wav2Vec2Output Output) Forward(Tensor inputValues, Wav2Vec2ForwardOptions? options = null)
    {
        Wav2Vec2Output output = Backbone.ForwardForHead(inputValues, options, frozen: FreezeBackbone);
        Tensor hidden = Dropout(output.LastHiddenState, Config.FinalDropout, Backbone.Random);
        return (_lmHead.Forward(hidden), output);
    }

    /// <summary>
    /// The CTC loss of a batch against its labels (token ids without blanks, one array per utterance), with the
    /// blank = pad_token_id, config.json's ctc_loss_reduction and ctc_zero_infinity, and each utterance's valid frames
    /// from <see cref="Wav2Vec2ForwardOptions.SampleLengths"/> (Hugging Face's Wav2Vec2ForCTC loss; fairseq's CTC
    /// criterion with reduction "sum").
    /// </summary>
    /// <exception cref="ArgumentException">Label count differs from the batch, or a label is not a non-blank token id.</exception>
    public CtcLossOutput Loss(Tensor inputValues, IReadOnlyList<int[]> labels, Wav2Vec2ForwardOptions? options = null)
    {
        if (labels.Count != inputValues.Size(0))
            throw new ArgumentException($"{labels.Count} label sequences for a batch of {inputValues.Size(0)}");
        (Tensor logits, Wav2Vec2Output output) = Forward(inputValues, options);
        int[] targets = labels.SelectMany(l => l).ToArray(), lengths = labels.Select(l => l.Length).ToArray();
        Tensor loss = Ops.CtcLoss(Ops.LogSoftmax(logits), targets, lengths, output.FrameLengths, Config.PadTokenId,
            Config.CtcLossReduction, Config.CtcZeroInfinity);
        return new CtcLossOutput(loss, logits, output.FrameLengths);
    }

    /// <summary>
    /// CTC logits (frames, vocab_size) of a recording of any length and sample rate, in evaluation mode. Long recordings
    /// are processed in overlapping chunks (see <see cref="ChunkedInference"/>) so that memory stays bounded.
    /// </summary>
    public Tensor Logits(AudioClip audio, ChunkingOptions? chunking = null, IProgress<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        float[] input = Preprocessor.Prepare(audio);
        return ChunkedInference.Run(Backbone, input, chunking, values => Forward(values).Logits, Config.VocabSize,
            progress, cancellationToken);
    }

    /// <summary>
    /// CTC logits (frames, vocab_size) of several recordings, in evaluation mode: recordings that fit one chunk run in
    /// batches of up to <paramref name="batchSize"/> consecutive recordings (of equal length for group-norm encoders,
    /// padded for layer-norm encoders); longer ones run chunked, one at a time.
    /// </summary>
    /// <example><code>
    /// Tensor[] logits = asr.Logits(clips, batchSize: 4);
    /// string first = new GreedyCtcDecoder(asr.Tokenizer!).Decode(logits[0].Span, logits[0].Size(0));
    /// </code></example>
    public Tensor[] Logits(IReadOnlyList<AudioClip> audio, int batchSize = 1, ChunkingOptions? chunking = null,
        CancellationToken cancellationToken = default) =>
        ChunkedInference.RunBatch(Backbone, audio.Select(Preprocessor.Prepare).ToArray(), batchSize, chunking,
            (values, lengths) => Forward(values, new Wav2Vec2ForwardOptions { SampleLengths = lengths }).Logits,
            Config.VocabSize, cancellationToken);
}
