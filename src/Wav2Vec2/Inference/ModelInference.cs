using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Inference;

/// <summary>
/// Recordings in, model outputs out, for the backbone and each head: audio of any length and rate is prepared as the
/// model's preprocessor_config.json says, run in evaluation mode without a tape, long recordings in overlapping windows
/// (<see cref="ChunkingOptions"/>) so that memory stays that of one window, short ones in batches.
/// </summary>
/// <example><code>
/// var model = Wav2Vec2Model.FromPretrained("wav2vec2-base");
/// Tensor layer6 = model.ExtractFeatures(AudioFile.Read("speech.wav"), layer: 6);   // (frames, 768)
/// Tensor logits = Wav2Vec2ForCtc.FromPretrained("wav2vec2-base-960h").Logits(AudioFile.Read("speech.wav"));
/// </code></example>
public static class ModelInference
{
    /// <summary>
    /// Hidden states of layer <paramref name="layer"/> (Hugging Face hidden_states[layer]; default: the last) for a
    /// recording of any length and rate, (frames, hidden_size), in evaluation mode.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The layer is outside [0, num_hidden_layers].</exception>
    public static Tensor ExtractFeatures(this Wav2Vec2Model model, AudioClip audio, int? layer = null, ChunkingOptions? chunking = null,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        int n = CheckLayer(model, layer);
        ModelInput input = model.Preprocessor.PrepareInput(audio);
        return ChunkedInference.Run(model, input, chunking, NonFiniteCheck.Guard(model, values => LayerOutput(model, values, n)),
            model.Config.HiddenSize, progress, cancellationToken);
    }

    /// <summary>As <see cref="ExtractFeatures(Wav2Vec2Model, AudioClip, int?, ChunkingOptions?, IProgress{double}?, CancellationToken)"/>
    /// for NAudio audio (a file reader, a mixer, a capture), read to its end without a temporary file.</summary>
    public static Tensor ExtractFeatures(this Wav2Vec2Model model, NAudio.Wave.ISampleProvider audio, int? layer = null,
        ChunkingOptions? chunking = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default) =>
        model.ExtractFeatures(AudioFile.Read(audio), layer, chunking, progress, cancellationToken);

    /// <summary>
    /// As <see cref="ExtractFeatures(Wav2Vec2Model, AudioClip, int?, ChunkingOptions?, IProgress{double}?, CancellationToken)"/>,
    /// but hands the frames to <paramref name="frames"/> a chunk at a time, in order (rows of hidden_size values), instead of returning them: memory stays that of one chunk whatever the recording's
    /// length (e.g. to stream them to a file). Returns the number of frames.
    /// </summary>
    public static int StreamFeatures(this Wav2Vec2Model model, AudioClip audio, Action<ReadOnlySpan<float>> frames, int? layer = null,
        ChunkingOptions? chunking = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        int n = CheckLayer(model, layer);
        ModelInput input = model.Preprocessor.PrepareInput(audio);
        ChunkedInference.Stream(model, input, chunking, NonFiniteCheck.Guard(model, values => LayerOutput(model, values, n)), progress,
            cancellationToken, frames);
        return model.FrameCount(input.Length);
    }

    /// <summary>Extracts features on a worker thread.</summary>
    public static Task<Tensor> ExtractFeaturesAsync(this Wav2Vec2Model model, AudioClip audio, int? layer = null,
        ChunkingOptions? chunking = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => model.ExtractFeatures(audio, layer, chunking, progress, cancellationToken), cancellationToken);

    /// <summary>
    /// Hidden states of several layers (Hugging Face hidden_states indices in [0, num_hidden_layers]) of several
    /// recordings of any length and rate, in evaluation mode: one forward pass per recording, through the deepest
    /// requested layer, whatever the number of layers. Recordings that fit one chunk run in batches of up to
    /// <paramref name="batchSize"/> consecutive recordings (of equal length for group-norm encoders such as BASE, padded
    /// for layer-norm encoders); longer ones run chunked, one at a time (see <see cref="ChunkingOptions"/>).
    /// </summary>
    /// <returns>[recording][layer]: (frames, hidden_size) for each recording and requested layer, in request order.</returns>
    /// <example><code>
    /// Tensor[][] states = model.ExtractHiddenStates(clips, layers: [6, 12], batchSize: 4);
    /// Tensor layer6OfFirst = states[0][0];   // (frames, 768)
    /// </code></example>
    public static Tensor[][] ExtractHiddenStates(this Wav2Vec2Model model, IReadOnlyList<AudioClip> audio, IReadOnlyList<int> layers,
        int batchSize = 1, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default)
    {
        if (layers.Count == 0)
            throw new ArgumentException("at least one layer is needed", nameof(layers));
        foreach (int n in layers)
            CheckLayer(model, n, nameof(layers));
        int deepest = layers.Max(), hidden = model.Config.HiddenSize;
        ModelInput[] inputs = audio.Select(model.Preprocessor.PrepareInput).ToArray();
        // The requested layers side by side, (B, frames, layers x hidden), so that chunking and batching stitch them together.
        Tensor[] joined = ChunkedInference.RunBatch(model, inputs, batchSize, chunking, NonFiniteCheck.Guard(model, (values, lengths) =>
        {
            Wav2Vec2Output output = model.Forward(values, new Wav2Vec2ForwardOptions
            {
                SampleLengths = lengths, OutputHiddenStates = layers.Count > 1, StopAfterLayer = deepest,
            });
            return layers.Count == 1 ? output.LastHiddenState : Ops.Concat(layers.Select(n => output.HiddenStates[n]).ToList(), 2);
        }), layers.Count * hidden, cancellationToken);
        return joined.Select(states => SplitColumns(states, layers.Count, hidden)).ToArray();
    }

    /// <summary>
    /// CTC logits (frames, vocab_size) of a recording of any length and sample rate, in evaluation mode.
    /// </summary>
    public static Tensor Logits(this Wav2Vec2ForCtc model, AudioClip audio, ChunkingOptions? chunking = null,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ModelInput input = model.Preprocessor.PrepareInput(audio);
        return ChunkedInference.Run(model.Backbone, input, chunking, NonFiniteCheck.Guard(model, values => model.Forward(values).Logits),
            model.Config.VocabSize, progress, cancellationToken);
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
    public static Tensor[] Logits(this Wav2Vec2ForCtc model, IReadOnlyList<AudioClip> audio, int batchSize = 1,
        ChunkingOptions? chunking = null, CancellationToken cancellationToken = default) =>
        ChunkedInference.RunBatch(model.Backbone, audio.Select(model.Preprocessor.PrepareInput).ToArray(), batchSize, chunking,
            NonFiniteCheck.Guard(model, (values, lengths) => model.Forward(values, options: new Wav2Vec2ForwardOptions { SampleLengths = lengths }).Logits),
            model.Config.VocabSize, cancellationToken);

    /// <summary>
    /// Class probabilities (softmax of the logits, num_labels each) of recordings of any length and rate, in evaluation
    /// mode: the hidden states come from <see cref="ExtractHiddenStates"/> (batches of up to <paramref name="batchSize"/>
    /// recordings, long ones in overlapping chunks), then the head pools each recording's frames.
    /// </summary>
    /// <example><code>
    /// float[][] probabilities = classifier.Probabilities(clips, batchSize: 4);
    /// </code></example>
    public static float[][] Probabilities(this Wav2Vec2ForSequenceClassification model, IReadOnlyList<AudioClip> audio,
        int batchSize = 1, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default)
    {
        bool training = model.Training;
        model.Train(false);
        try
        {
            int hidden = model.Config.HiddenSize;
            Tensor[][] states = model.Backbone.ExtractHiddenStates(audio, model.PooledLayers, batchSize, chunking, cancellationToken);
            return states.Select(clip =>
            {
                using var noGrad = Tape.NoGrad();
                int frames = clip[0].Size(0);
                Tensor[] batched = clip.Select(s => Ops.Reshape(s, 1, frames, hidden)).ToArray();
                float[] probabilities = Ops.Softmax(model.Classify(batched, [frames])).ToArray();
                NonFiniteCheck.EnsureHeadOutput(model, probabilities);
                return probabilities;
            }).ToArray();
        }
        finally
        {
            model.Train(training);
        }
    }

    // A hidden_states index (default: the last layer), checked; parameter names the caller's argument in the error.
    private static int CheckLayer(Wav2Vec2Model model, int? layer, string parameter = "layer")
    {
        int n = layer ?? model.Config.NumHiddenLayers;
        if (n < 0 || n > model.Config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(parameter, $"{parameter} must be in [0, {model.Config.NumHiddenLayers}], got {n}");
        return n;
    }

    private static Tensor LayerOutput(Wav2Vec2Model model, Tensor values, int layer) =>
        model.Forward(values, new Wav2Vec2ForwardOptions { StopAfterLayer = layer }).LastHiddenState;

    // (frames, parts x width) -> parts tensors of (frames, width).
    private static Tensor[] SplitColumns(Tensor joined, int parts, int width)
    {
        if (parts == 1)
            return [joined];
        int frames = joined.Size(0);
        var result = new Tensor[parts];
        for (int p = 0; p < parts; p++)
        {
            result[p] = new Tensor([frames, width], clear: false, pooled: false);
            for (int t = 0; t < frames; t++)
                joined.Span.Slice((t * parts + p) * width, width).CopyTo(result[p].Span.Slice(t * width, width));
        }
        return result;
    }
}
