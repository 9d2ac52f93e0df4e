using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.IO;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>What <see cref="Wav2Vec2ForSequenceClassification.Loss"/> returns.</summary>
/// <param name="Loss">The scalar cross-entropy of the batch (reduced as asked).</param>
/// <param name="Logits">(batch, num_labels) logits.</param>
public sealed record SequenceClassificationOutput(Tensor Loss, Tensor Logits);

/// <summary>
/// wav2vec 2.0 with an utterance classification head (Hugging Face Wav2Vec2ForSequenceClassification): the backbone
/// under "wav2vec2.", a <c>projector</c> from hidden_size to classifier_proj_size applied to every frame, the mean over
/// each utterance's valid frames, and a <c>classifier</c> to num_labels (the classes of config.json's id2label). With
/// use_weighted_layer_sum the frames are a learned softmax-weighted sum of every hidden state (<c>layer_weights</c>)
/// instead of the last one. Training.SequenceClassificationTrainer fine-tunes it with the cross-entropy loss.
/// </summary>
/// <example><code>
/// var classifier = Wav2Vec2ForSequenceClassification.FromPretrained("keyword-spotter");
/// float[] probabilities = classifier.Probabilities([AudioFile.Read("yes.wav")])[0];
/// string best = classifier.Config.Labels[Array.IndexOf(probabilities, probabilities.Max())];
/// </code></example>
public sealed class Wav2Vec2ForSequenceClassification : Module
{
    private readonly Parameter? _layerWeights;
    private readonly Nn.Linear _projector, _classifier;

    /// <summary>Checkpoint prefixes of this head's tensors (beside the backbone under "wav2vec2.").</summary>
    internal static readonly string[] HeadTensorPrefixes = ["projector.", "classifier.", "layer_weights"];

    /// <summary>Builds a randomly initialised model (Hugging Face's initialisation: normal head weights, zero biases,
    /// equal layer weights).</summary>
    /// <example><code>
    /// var config = Wav2Vec2Config.Preset("tiny");
    /// config.SetLabels(["no", "yes"]);
    /// var model = new Wav2Vec2ForSequenceClassification(config, new RandomSource(1));
    /// </code></example>
    public Wav2Vec2ForSequenceClassification(Wav2Vec2Config config, RandomSource random)
    {
        Backbone = AddModule(PretrainedDirectory.BackboneName, new Wav2Vec2Model(config, random));
        if (config.UseWeightedLayerSum)
        {
            _layerWeights = AddParameter("layer_weights", config.NumHiddenLayers + 1);
            _layerWeights.Span.Fill(1f / (config.NumHiddenLayers + 1));
        }
        _projector = AddModule("projector", new Nn.Linear(config.HiddenSize, config.ClassifierProjSize, random, normalStd: config.InitializerRange));
        _classifier = AddModule("classifier", new Nn.Linear(config.ClassifierProjSize, config.Labels.Count, random, normalStd: config.InitializerRange));
    }

    /// <summary>The wav2vec 2.0 backbone.</summary>
    public Wav2Vec2Model Backbone { get; }

    /// <summary>The architecture, with the class names (<see cref="Wav2Vec2Config.Labels"/>).</summary>
    public Wav2Vec2Config Config => Backbone.Config;

    /// <summary>Input preparation (sample rate, normalisation), from preprocessor_config.json: the backbone's.</summary>
    public InputValuesPreprocessor Preprocessor
    {
        get => Backbone.Preprocessor;
        set => Backbone.Preprocessor = value;
    }

    /// <summary>
    /// Only the head trains (projector, classifier and layer weights): the backbone runs without being recorded for the
    /// backward pass (Hugging Face's freeze_base_model). Dropout, layer drop and masking stay active in training mode.
    /// </summary>
    public bool FreezeBackbone { get; set; }

    /// <summary>Loads a Hugging Face model directory (config.json with id2label, weights, preprocessor_config.json).</summary>
    /// <param name="directory">The model directory.</param>
    /// <param name="strict">Require every tensor; false starts the head from a backbone checkpoint, randomly initialised.</param>
    /// <example><code>
    /// var classifier = Wav2Vec2ForSequenceClassification.FromPretrained("run/final");
    /// </code></example>
    public static Wav2Vec2ForSequenceClassification FromPretrained(string directory, bool strict = true) => FromPretrained(directory, strict, out _);

    /// <summary>As <see cref="FromPretrained(string, bool)"/>, also reporting missing and ignored tensors.</summary>
    /// <example><code>
    /// var classifier = Wav2Vec2ForSequenceClassification.FromPretrained("wav2vec2-base", strict: false, out LoadReport report);
    /// Console.WriteLine($"{report.Missing.Count} new head tensors");
    /// </code></example>
    public static Wav2Vec2ForSequenceClassification FromPretrained(string directory, bool strict, out LoadReport report) =>
        PretrainedDirectory.Load(directory, strict, config => new Wav2Vec2ForSequenceClassification(config, new RandomSource(0)),
            m => m.Backbone, out report);

    /// <summary>Writes config.json (with id2label and label2id), model.safetensors (Hugging Face names) and
    /// preprocessor_config.json: a directory transformers' Wav2Vec2ForSequenceClassification loads.</summary>
    /// <example><code>
    /// classifier.SavePretrained("keyword-spotter");
    /// </code></example>
    public void SavePretrained(string directory) =>
        PretrainedDirectory.Save(directory, this, Config, Preprocessor, "Wav2Vec2ForSequenceClassification");

    /// <summary>Logits (batch, num_labels) of normalised input values (batch, samples); padded utterances are pooled over
    /// their valid frames (<see cref="Wav2Vec2ForwardOptions.SampleLengths"/>).</summary>
    /// <example><code>
    /// Tensor logits = model.Forward(Tensor.FromArray(input, 1, input.Length));
    /// </code></example>
    public Tensor Forward(Tensor inputValues, Wav2Vec2ForwardOptions? options = null)
    {
        options = (options ?? new Wav2Vec2ForwardOptions()) with { OutputHiddenStates = _layerWeights != null };
        Wav2Vec2Output output = Backbone.ForwardForHead(inputValues, options, frozen: FreezeBackbone);
        return Classify(_layerWeights != null ? WeightedSum(output.HiddenStates) : output.LastHiddenState, output.FrameLengths);
    }

    /// <summary>
    /// The cross-entropy of a batch against its class ids (one per utterance), Hugging Face's loss with
    /// <paramref name="reduction"/> Mean (Sum lets a trainer divide by the utterances of a whole update).
    /// </summary>
    /// <example><code>
    /// SequenceClassificationOutput output = model.Loss(input, labels: [0, 1], new Wav2Vec2ForwardOptions { SampleLengths = [16000, 12000] });
    /// </code></example>
    /// <exception cref="ArgumentException">Label count differs from the batch, or a label is not a class id.</exception>
    public SequenceClassificationOutput Loss(Tensor inputValues, int[] labels, Wav2Vec2ForwardOptions? options = null,
        Reduction reduction = Reduction.Mean)
    {
        if (labels.Length != inputValues.Size(0))
            throw new ArgumentException($"{labels.Length} labels for a batch of {inputValues.Size(0)}");
        Tensor logits = Forward(inputValues, options);
        return new SequenceClassificationOutput(Ops.CrossEntropy(logits, labels, reduction: reduction), logits);
    }

    /// <summary>
    /// Class probabilities (softmax of the logits, num_labels each) of recordings of any length and rate, in evaluation
    /// mode: the hidden states come from <see cref="Wav2Vec2Model.ExtractHiddenStates"/> (batches of up to
    /// <paramref name="batchSize"/> recordings, long ones in overlapping chunks), then the head pools each recording's
    /// frames.
    /// </summary>
    /// <example><code>
    /// float[][] probabilities = classifier.Probabilities(clips, batchSize: 4);
    /// </code></example>
    public float[][] Probabilities(IReadOnlyList<AudioClip> audio, int batchSize = 1, ChunkingOptions? chunking = null,
        CancellationToken cancellationToken = default)
    {
        int layers = Config.NumHiddenLayers;
        int[] wanted = _layerWeights != null ? Enumerable.Range(0, layers + 1).ToArray() : [layers];
        bool training = Training;
        Train(false);
        try
        {
            Tensor[][] states = Backbone.ExtractHiddenStates(audio, wanted, batchSize, chunking, cancellationToken);
            return states.Select(clip =>
            {
                using var noGrad = Tape.NoGrad();
                int frames = clip[0].Size(0);
                Tensor[] batched = clip.Select(s => Ops.Reshape(s, 1, frames, Config.HiddenSize)).ToArray();
                return Ops.Softmax(Classify(_layerWeights != null ? WeightedSum(batched) : batched[0], [frames])).ToArray();
            }).ToArray();
        }
        finally
        {
            Train(training);
        }
    }

    // Hugging Face: stack the hidden states, weight them by softmax(layer_weights), sum over layers.
    private Tensor WeightedSum(IReadOnlyList<Tensor> hiddenStates)
    {
        Tensor weights = Ops.Softmax(_layerWeights!);
        Tensor sum = Ops.Multiply(hiddenStates[0], Ops.Slice(weights, 0, 0, 1));
        for (int i = 1; i < hiddenStates.Count; i++)
            sum = Ops.Add(sum, Ops.Multiply(hiddenStates[i], Ops.Slice(weights, 0, i, 1)));
        return sum;
    }

    // (B, T, H) frames -> projector -> mean over each utterance's valid frames -> classifier: (B, num_labels).
    private Tensor Classify(Tensor hidden, int[] frameLengths)
    {
        int batch = hidden.Size(0), frames = hidden.Size(1);
        Tensor projected = _projector.Forward(hidden);                                      // (B, T, P)
        Tensor pooled;
        if (frameLengths.All(length => length == frames))
            pooled = Ops.Mean(projected, 1);                                                // (B, P)
        else
        {
            var valid = new float[batch * frames];                                          // (B, T, 1)
            var inverse = new float[batch];                                                 // (B, 1)
            for (int b = 0; b < batch; b++)
            {
                valid.AsSpan(b * frames, frameLengths[b]).Fill(1f);
                inverse[b] = 1f / frameLengths[b];
            }
            Tensor sums = Ops.Sum(Ops.Multiply(projected, Tensor.FromArray(valid, batch, frames, 1)), 1);
            pooled = Ops.Multiply(sums, Tensor.FromArray(inverse, batch, 1));
        }
        return _classifier.Forward(pooled);
    }
}
