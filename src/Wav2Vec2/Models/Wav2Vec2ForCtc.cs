using Wav2Vec2.Audio;
using Wav2Vec2.IO;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>
/// wav2vec 2.0 with a CTC head (Hugging Face Wav2Vec2ForCTC): the backbone under "wav2vec2." and a linear
/// <c>lm_head</c> from hidden_size to vocab_size. Loads published checkpoints such as facebook/wav2vec2-base-960h and
/// transcribes with greedy CTC decoding.
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

    /// <summary>The vocabulary (vocab.json), needed by <see cref="Transcribe"/>.</summary>
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

    /// <summary>Writes config.json, model.safetensors (Hugging Face names) and preprocessor_config.json.</summary>
    public void SavePretrained(string directory) =>
        PretrainedDirectory.Save(directory, this, Config, Preprocessor);

    /// <summary>CTC logits (batch, frames, vocab_size) of normalised input values (batch, samples).</summary>
    public (Tensor Logits, Wav2Vec2Output Output) Forward(Tensor inputValues, Wav2Vec2ForwardOptions? options = null)
    {
        Wav2Vec2Output output = Backbone.Forward(inputValues, options);
        Tensor hidden = Dropout(output.LastHiddenState, Config.FinalDropout, Backbone.Random);
        return (_lmHead.Forward(hidden), output);
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
    /// string first = asr.Tokenizer!.Decode(Wav2Vec2ForCtc.ArgMaxRows(logits[0]));
    /// </code></example>
    public Tensor[] Logits(IReadOnlyList<AudioClip> audio, int batchSize = 1, ChunkingOptions? chunking = null,
        CancellationToken cancellationToken = default) =>
        ChunkedInference.RunBatch(Backbone, audio.Select(Preprocessor.Prepare).ToArray(), batchSize, chunking,
            (values, lengths) => Forward(values, new Wav2Vec2ForwardOptions { SampleLengths = lengths }).Logits,
            Config.VocabSize, cancellationToken);

    /// <summary>Greedy CTC transcript of <paramref name="audio"/>.</summary>
    public string Transcribe(AudioClip audio, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default)
    {
        CtcTokenizer tokenizer = Tokenizer ?? throw new InvalidOperationException("no vocabulary loaded (vocab.json) to transcribe with");
        Tensor logits = Logits(audio, chunking, null, cancellationToken);
        return tokenizer.Decode(ArgMaxRows(logits));
    }

    /// <summary>Transcribes on a worker thread.</summary>
    public Task<string> TranscribeAsync(AudioClip audio, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Transcribe(audio, chunking, cancellationToken), cancellationToken);

    /// <summary>Index of the largest value of each row of a (rows, classes) tensor.</summary>
    public static int[] ArgMaxRows(Tensor logits)
    {
        int classes = logits.Size(-1), rows = logits.Length / classes;
        var ids = new int[rows];
        for (int r = 0; r < rows; r++)
            ids[r] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Span.Slice(r * classes, classes));
        return ids;
    }
}
