using Wav2Vec2.Autograd;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>The loss of one pre-training forward pass and its parts (fairseq's wav2vec criterion).</summary>
/// <param name="Loss">contrastive + diversity_weight * diversity * sample_size + penalty_weight * penalty * sample_size.</param>
/// <param name="Metrics">The logged figures of this pass.</param>
public sealed record PreTrainingOutput(Tensor Loss, PreTrainingMetrics Metrics);

/// <summary>Per-pass metrics of pre-training (sums and counts so that passes can be combined).</summary>
public sealed record PreTrainingMetrics
{
    /// <summary>Total loss.</summary>
    public double Loss { get; init; }
    /// <summary>Summed cross-entropy of the positives among distractors.</summary>
    public double ContrastiveLoss { get; init; }
    /// <summary>(G V - prob_perplexity) / (G V), unweighted.</summary>
    public double DiversityLoss { get; init; }
    /// <summary>Mean square of the conv features, unweighted.</summary>
    public double FeaturePenalty { get; init; }
    /// <summary>Masked frames whose positive ranks first (fairseq counts a tie of all logits as wrong).</summary>
    public int Correct { get; init; }
    /// <summary>Masked frames (the sample size).</summary>
    public int MaskedFrames { get; init; }
    /// <summary>Perplexity of the hard (argmax) codes, summed over groups.</summary>
    public double CodePerplexity { get; init; }
    /// <summary>Perplexity of the batch-averaged soft code distribution, summed over groups.</summary>
    public double ProbPerplexity { get; init; }
    /// <summary>Gumbel temperature used.</summary>
    public double Temperature { get; init; }
    /// <summary>Distractors whose codes equal their positive's (scored -inf, so they drop out of the contrast).</summary>
    public int BlockedDistractors { get; init; }
    /// <summary>Distractors drawn (masked frames x num_negatives).</summary>
    public int Distractors { get; init; }
    /// <summary>Correct / MaskedFrames.</summary>
    public double Accuracy => MaskedFrames == 0 ? 0 : (double)Correct / MaskedFrames;
}

/// <summary>
/// wav2vec 2.0 pre-training (Hugging Face Wav2Vec2ForPreTraining names: "wav2vec2.", "quantizer.codevectors",
/// "quantizer.weight_proj", "project_q", "project_hid"; fairseq's objective): masked context vectors must pick the
/// quantized latent of their frame among distractors from other masked frames of the same utterance.
/// </summary>
public sealed class Wav2Vec2ForPreTraining : Wav2Vec2TaskModel
{
    private readonly GumbelVectorQuantizer _quantizer;
    private readonly Nn.Linear _projectQ, _projectHid;

    /// <summary>Checkpoint prefixes of this head's tensors (beside the backbone under "wav2vec2.").</summary>
    internal static readonly string[] HeadTensorPrefixes = ["quantizer.", "project_q.", "project_hid."];

    /// <summary>Builds a randomly initialised model (fairseq's initialisation).</summary>
    /// <exception cref="InvalidDataException">The config is not a wav2vec2 one (HuBERT has no such head).</exception>
    public Wav2Vec2ForPreTraining(Wav2Vec2Config config, RandomSource random) : base(Checked(config), random)
    {
        _quantizer = AddModule("quantizer", new GumbelVectorQuantizer(config, random));
        _projectHid = AddModule("project_hid", new Nn.Linear(config.HiddenSize, config.ProjCodevectorDim, random));
        _projectQ = AddModule("project_q", new Nn.Linear(config.CodevectorDim, config.ProjCodevectorDim, random));
    }

    private protected override string ArchitectureName => "Wav2Vec2ForPreTraining";

    // HuBERT learns to predict cluster labels of masked frames, not quantized latents: this head is wav2vec 2.0's alone.
    private static Wav2Vec2Config Checked(Wav2Vec2Config config) => config.ModelType == "wav2vec2" ? config
        : throw new InvalidDataException($"model_type \"{config.ModelType}\" has no wav2vec 2.0 pre-training head (its targets " +
            "are not quantized latents): pre-train a wav2vec2 model, or fine-tune this one (CTC or classification)");

    /// <summary>The quantizer (tests replay another engine's Gumbel noise through it).</summary>
    internal GumbelVectorQuantizer Quantizer => _quantizer;

    /// <summary>fairseq's feature_grad_mult: scale of the gradient into the conv encoder (0.1).</summary>
    public float FeatureGradMult { get; set; } = 0.1f;

    /// <summary>Weight of the feature penalty (10).</summary>
    public float FeaturePenaltyWeight { get; set; } = 10f;

    /// <summary>
    /// One pass: loss and metrics for normalised audio (batch, samples) with given masked frames (batch * frames, the
    /// same count per utterance) and distractor indices (from <see cref="SpanMasking.SampleNegatives"/> over the masked
    /// frames). In training mode the quantizer samples hard Gumbel codes at <paramref name="temperature"/>; in evaluation
    /// it takes the argmax and everything is deterministic. <paramref name="diversityLossWeight"/> replaces the config's
    /// weight (a recipe whose weight changes during the run).
    /// </summary>
    public PreTrainingOutput Forward(Tensor inputValues, bool[] maskTimeIndices, int[] negativeIndices, float temperature,
        int[]? sampleLengths = null, float? diversityLossWeight = null)
    {
        Wav2Vec2Output output = ForwardBackbone(inputValues, new Wav2Vec2ForwardOptions
        {
            MaskTimeIndices = maskTimeIndices, SampleLengths = sampleLengths,
            FeatureGradScale = Training ? FeatureGradMult : 1f,
        });
        int batch = inputValues.Size(0), frames = output.LastHiddenState.Size(1);
        int[] maskedRows = Enumerable.Range(0, batch * frames).Where(i => maskTimeIndices[i]).ToArray();
        int masked = maskedRows.Length / batch;
        if (masked * batch != maskedRows.Length)
            throw new ArgumentException("every utterance must have the same number of masked frames");
        int negatives = masked == 0 ? 0 : negativeIndices.Length / maskedRows.Length;
        if (negatives < 1 || negatives * maskedRows.Length != negativeIndices.Length)
            throw new ArgumentException($"{negativeIndices.Length} distractor indices do not fit {maskedRows.Length} masked frames");

        Tensor conv = output.ConvFeatures;
        Tensor penalty = Ops.Mean(Ops.Multiply(conv, conv));
        Tensor features = Dropout(output.ExtractFeatures, Config.FeatQuantizerDropout, Backbone.Random);
        Tensor latents = Ops.IndexSelect(Ops.Reshape(features, batch * frames, -1), 0, maskedRows);             // (BM, C)
        Tensor context = Ops.IndexSelect(Ops.Reshape(output.LastHiddenState, batch * frames, -1), 0, maskedRows); // (BM, H)

        QuantizerOutput quantized = _quantizer.Forward(latents, temperature, Backbone.Random);
        Tensor y = _projectQ.Forward(quantized.Codevectors);                                                      // (BM, P)
        Tensor x = _projectHid.Forward(context);                                                                 // (BM, P)
        (Tensor logits, float[] logitValues, int blocked) = ContrastiveLogits(x, y, quantized.Codes, negativeIndices, negatives);

        int sampleSize = maskedRows.Length;
        Tensor contrastive = Ops.CrossEntropy(logits, new int[sampleSize], reduction: Reduction.Sum);
        float codebook = Config.NumCodevectorGroups * Config.NumCodevectorsPerGroup;
        Tensor diversity = Ops.Scale(Ops.Subtract(Tensor.Scalar(codebook), quantized.ProbPerplexity), 1f / codebook);
        Tensor loss = Ops.Add(contrastive, Ops.Add(Ops.Scale(diversity, (diversityLossWeight ?? Config.DiversityLossWeight) * sampleSize),
            Ops.Scale(penalty, FeaturePenaltyWeight * sampleSize)));
        var metrics = new PreTrainingMetrics
        {
            Loss = loss.ToScalar(), ContrastiveLoss = contrastive.ToScalar(), DiversityLoss = diversity.ToScalar(),
            FeaturePenalty = penalty.ToScalar(), Correct = CountCorrect(logitValues, negatives + 1), MaskedFrames = sampleSize,
            CodePerplexity = quantized.CodePerplexity, ProbPerplexity = quantized.ProbPerplexity.ToScalar(), Temperature = temperature,
            BlockedDistractors = blocked, Distractors = negativeIndices.Length,
        };
        return new PreTrainingOutput(loss, metrics);
    }

    /// <summary>Loads a pre-training checkpoint (a directory, or a Hugging Face repo id: <see cref="IO.ModelHub"/>) in
    /// evaluation mode; with strict = false a backbone-only or CTC checkpoint initialises it.</summary>
    public static Wav2Vec2ForPreTraining FromPretrained(string directory, bool strict = true) => FromPretrained(directory, strict, out _);

    /// <summary>As <see cref="FromPretrained(string, bool)"/>, also reporting missing and ignored tensors.</summary>
    public static Wav2Vec2ForPreTraining FromPretrained(string directory, bool strict, out IO.LoadReport report) =>
        Load(directory, strict, (config, random) => new Wav2Vec2ForPreTraining(config, random), out report);

    // Cosine similarity / kappa of each context vector with its positive (column 0) and distractors; a distractor equal
    // to the positive gets -inf (fairseq's neg_is_pos). Equal targets are found by equal codes, which is exact whatever
    // the rounding of the projection.
    private (Tensor Logits, float[] Values, int Blocked) ContrastiveLogits(Tensor x, Tensor y, int[] codes, int[] negativeIndices, int negatives)
    {
        int groups = Config.NumCodevectorGroups;
        int rows = x.Size(0), width = x.Size(1), columns = negatives + 1;
        Tensor distractors = Ops.Reshape(Ops.IndexSelect(y, 0, negativeIndices), rows, negatives, width);
        Tensor targets = Ops.Concat([Ops.Reshape(y, rows, 1, width), distractors], 1);                           // (BM, 1+K, P)
        Tensor repeated = Ops.IndexSelect(Ops.Reshape(x, rows, 1, width), 1, new int[columns]);                  // (BM, 1+K, P)
        Tensor logits = Ops.Scale(Ops.CosineSimilarity(repeated, targets), 1f / Config.ContrastiveLogitsTemperature);
        var blocked = new float[rows * columns];
        int count = 0;
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < negatives; k++)
                if (codes.AsSpan(negativeIndices[r * negatives + k] * groups, groups).SequenceEqual(codes.AsSpan(r * groups, groups)))
                {
                    blocked[r * columns + 1 + k] = float.NegativeInfinity;
                    count++;
                }
        if (count > 0)
            logits = Ops.Add(logits, Tensor.FromArray(blocked, rows, columns));
        return (logits, logits.ToArray(), count);
    }

    private static int CountCorrect(float[] logits, int columns)
    {
        int correct = 0;
        for (int r = 0; r < logits.Length / columns; r++)
        {
            ReadOnlySpan<float> row = logits.AsSpan(r * columns, columns);
            bool max = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row) == 0;
            bool min = System.Numerics.Tensors.TensorPrimitives.IndexOfMin(row) == 0;
            if (max && !min)
                correct++;
        }
        return correct;
    }
}
