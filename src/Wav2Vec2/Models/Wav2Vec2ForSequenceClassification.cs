using Wav2Vec2.Autograd;
using Wav2Vec2.IO;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>What <see cref="Wav2Vec2ForSequenceClassification.Forward"/> returns (Hugging Face's SequenceClassifierOutput).</summary>
/// <param name="Logits">(batch, num_labels) logits.</param>
/// <param name="Hidden">The backbone's output (with every hidden state when the head weighs the layers).</param>
/// <param name="Loss">The scalar cross-entropy of the batch when labels were given (reduced as asked), else null.</param>
public sealed record SequenceClassificationOutput(Tensor Logits, Wav2Vec2Output Hidden, Tensor? Loss = null);

/// <summary>
/// wav2vec 2.0 with an utterance classification head (Hugging Face Wav2Vec2ForSequenceClassification): the backbone
/// under "wav2vec2.", a <c>projector</c> from hidden_size to classifier_proj_size applied to every frame, the mean over
/// each utterance's valid frames, and a <c>classifier</c> to num_labels (the classes of config.json's id2label). With
/// use_weighted_layer_sum the frames are a learned softmax-weighted sum of every hidden state (<c>layer_weights</c>)
/// instead of the last one. Training.SequenceClassificationTrainer fine-tunes it with the cross-entropy loss.
/// </summary>
/// <example><code>
/// var classifier = Wav2Vec2ForSequenceClassification.FromPretrained("keyword-spotter");
/// float[] probabilities = classifier.Probabilities([AudioFile.Read("yes.wav")])[0];   // Wav2Vec2.Inference
/// string best = classifier.Config.Labels[Array.IndexOf(probabilities, probabilities.Max())];
/// </code></example>
public sealed class Wav2Vec2ForSequenceClassification : Wav2Vec2TaskModel
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
    public Wav2Vec2ForSequenceClassification(Wav2Vec2Config config, RandomSource random) : base(config, random)
    {
        if (config.UseWeightedLayerSum)
        {
            _layerWeights = AddParameter("layer_weights", config.NumHiddenLayers + 1);
            _layerWeights.Span.Fill(1f / (config.NumHiddenLayers + 1));
        }
        _projector = AddModule("projector", new Nn.Linear(config.HiddenSize, config.ClassifierProjSize, random, normalStd: config.InitializerRange));
        _classifier = AddModule("classifier", new Nn.Linear(config.ClassifierProjSize, config.Labels.Count, random, normalStd: config.InitializerRange));
    }

    private protected override string ArchitectureName => Config.ClassPrefix + "ForSequenceClassification";

    /// <summary>Loads a Hugging Face model directory (config.json with id2label, weights, preprocessor_config.json).</summary>
    /// <param name="directory">The model directory, or a Hugging Face repo id (see <see cref="IO.ModelHub"/>).</param>
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
        Load(directory, strict, (config, random) => new Wav2Vec2ForSequenceClassification(config, random), out report);

    /// <summary>
    /// Logits (batch, num_labels) of normalised input values (batch, samples), padded utterances pooled over their valid
    /// frames (<see cref="Wav2Vec2ForwardOptions.SampleLengths"/>); and, when <paramref name="labels"/> are given (one
    /// class id per utterance), the cross-entropy (Hugging Face's loss with <paramref name="reduction"/> Mean; Sum lets a
    /// trainer divide by the utterances of a whole update).
    /// </summary>
    /// <example><code>
    /// SequenceClassificationOutput output = model.Forward(input, labels: [0, 1], new Wav2Vec2ForwardOptions { SampleLengths = [16000, 12000] });
    /// </code></example>
    /// <exception cref="ArgumentException">Label count differs from the batch, or a label is not a class id.</exception>
    public SequenceClassificationOutput Forward(Tensor inputValues, int[]? labels = null, Wav2Vec2ForwardOptions? options = null,
        Reduction reduction = Reduction.Mean)
    {
        if (labels != null && labels.Length != inputValues.Size(0))
            throw new ArgumentException($"{labels.Length} labels for a batch of {inputValues.Size(0)}");
        options = (options ?? new Wav2Vec2ForwardOptions()) with { OutputHiddenStates = _layerWeights != null };
        Wav2Vec2Output output = ForwardBackbone(inputValues, options);
        Tensor logits = Classify(_layerWeights != null ? output.HiddenStates : [output.LastHiddenState], output.FrameLengths);
        return new SequenceClassificationOutput(logits, output, labels == null ? null : Ops.CrossEntropy(logits, labels, reduction: reduction));
    }

    /// <summary>The hidden_states indices the head pools: every layer with a weighted layer sum, else the last.</summary>
    internal int[] PooledLayers => _layerWeights != null ? Enumerable.Range(0, Config.NumHiddenLayers + 1).ToArray() : [Config.NumHiddenLayers];

    /// <summary>Logits (batch, num_labels) of the hidden states of <see cref="PooledLayers"/>, each (batch, frames,
    /// hidden_size), over each utterance's valid frames.</summary>
    internal Tensor Classify(IReadOnlyList<Tensor> pooledLayers, int[] frameLengths) =>
        Pool(_layerWeights != null ? WeightedSum(pooledLayers) : pooledLayers[0], frameLengths);

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
    private Tensor Pool(Tensor hidden, int[] frameLengths)
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
