using Wav2Vec2.Autograd;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Autograd;

/// <summary>Central-difference checks of every op's backward, on random inputs with odd shapes.</summary>
[TestClass]
public sealed class GradientCheckTests
{
    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Linear))]
    public void Linear()
    {
        GradientChecker.Check("Linear", t => Ops.Linear(t[0], t[1], t[2]),
            [RandomTensor(1, 2, 3, 7), RandomTensor(2, 5, 7), RandomTensor(3, 5)]);
        GradientChecker.Check("Linear with GELU", t => Ops.Linear(t[0], t[1], t[2], gelu: true),
            [RandomTensor(1, 2, 3, 7), RandomTensor(2, 5, 7), RandomTensor(3, 5)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.MatMul))]
    public void MatMulAllTransposeCombinations()
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                GradientChecker.Check($"MatMul tA={ta} tB={tb}", t => Ops.MatMul(t[0], t[1], ta, tb),
                    [RandomTensor(4, 2, ta ? 5 : 3, ta ? 3 : 5), RandomTensor(5, 2, tb ? 4 : 5, tb ? 5 : 4)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Conv1d))]
    public void Conv1dStridedPaddedGrouped() => GradientChecker.Check("Conv1d",
        t => Ops.Conv1d(t[0], t[1], t[2], stride: 3, padding: 2, groups: 2),
        [RandomTensor(6, 2, 4, 13), RandomTensor(7, 6, 2, 4), RandomTensor(8, 6)]);

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Conv1dChannelsLast))]
    public void Conv1dChannelsLastStridedPaddedGrouped()
    {
        GradientChecker.Check("Conv1dChannelsLast", t => Ops.Conv1dChannelsLast(t[0], t[1], t[2], stride: 3, padding: 2,
            groups: 2, paddingRight: 1), [RandomTensor(40, 2, 13, 4), RandomTensor(41, 6, 2, 4), RandomTensor(42, 6)]);
        // Kernel longer than the stride (overlapping patches), no padding, no bias.
        GradientChecker.Check("Conv1dChannelsLast overlapping", t => Ops.Conv1dChannelsLast(t[0], t[1], null, stride: 2),
            [RandomTensor(43, 2, 11, 3), RandomTensor(44, 5, 3, 3)]);
        GradientChecker.Check("Conv1dChannelsLast with GELU", t => Ops.Conv1dChannelsLast(t[0], t[1], null, stride: 2, gelu: true),
            [RandomTensor(43, 2, 11, 3), RandomTensor(44, 5, 3, 3)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.GroupNormChannelsLast))]
    public void GroupNormChannelsLast()
    {
        GradientChecker.Check("GroupNormChannelsLast", t => Ops.GroupNormChannelsLast(t[0], 2, t[1], t[2]),
            [RandomTensor(45, 2, 6, 4), RandomTensor(46, 4), RandomTensor(47, 4)], relativeTolerance: 3e-2f);
        GradientChecker.Check("GroupNormChannelsLast with GELU", t => Ops.GroupNormChannelsLast(t[0], 2, t[1], t[2], gelu: true),
            [RandomTensor(45, 2, 6, 4), RandomTensor(46, 4), RandomTensor(47, 4)], relativeTolerance: 3e-2f);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.GroupNorm))]
    public void GroupNorm() => GradientChecker.Check("GroupNorm", t => Ops.GroupNorm(t[0], 2, t[1], t[2]),
        [RandomTensor(9, 2, 4, 6), RandomTensor(10, 4), RandomTensor(11, 4)], relativeTolerance: 3e-2f);

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.LayerNorm))]
    public void LayerNormLastDimAndChannels()
    {
        GradientChecker.Check("LayerNorm", t => Ops.LayerNorm(t[0], t[1], t[2]),
            [RandomTensor(12, 3, 9), RandomTensor(13, 9), RandomTensor(14, 9)], relativeTolerance: 3e-2f);
        GradientChecker.Check("LayerNorm dim 1", t => Ops.LayerNorm(t[0], t[1], t[2], dim: 1),
            [RandomTensor(15, 2, 6, 5), RandomTensor(16, 6), RandomTensor(17, 6)], relativeTolerance: 3e-2f);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.AddLayerNorm))]
    public void AddLayerNormRecordsTheAddAndTheNorm() => GradientChecker.Check("AddLayerNorm",
        t => Ops.AddLayerNorm(t[0], t[1], t[2], t[3]),
        [RandomTensor(18, 3, 9), RandomTensor(19, 3, 9), RandomTensor(20, 9), RandomTensor(21, 9)], relativeTolerance: 3e-2f);

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Relu))]
    public void Relu()
    {
        // Away from the kink at 0, where a finite difference straddles two slopes.
        Tensor x = RandomTensor(18, 41);
        foreach (ref float v in x.Span)
            v += MathF.CopySign(0.1f, v);
        GradientChecker.Check("Relu", t => Ops.Relu(t[0]), [x]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Gelu))]
    public void Gelu() => GradientChecker.Check("Gelu", t => Ops.Gelu(t[0]), [Scaled(RandomTensor(18, 40), 4f)]);

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Softmax), nameof(Ops.LogSoftmax))]
    public void SoftmaxAndLogSoftmax()
    {
        GradientChecker.Check("Softmax", t => Ops.Softmax(t[0]), [Scaled(RandomTensor(19, 3, 6), 3f)]);
        GradientChecker.Check("LogSoftmax", t => Ops.LogSoftmax(t[0]), [Scaled(RandomTensor(20, 3, 6), 3f)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Attention))]
    public void AttentionWithPadding()
    {
        bool[] mask = [false, false, false, false, false, false, false, false, false, true, true, true];
        GradientChecker.Check("Attention", t => Ops.Attention(t[0], t[1], t[2], heads: 2, keyPaddingMask: mask),
            [RandomTensor(21, 2, 6, 4), RandomTensor(22, 2, 6, 4), RandomTensor(23, 2, 6, 4)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Attention))]
    public void AttentionWithAnAdditiveBiasGivesItTheScoresGradient()
    {
        bool[] mask = [false, false, false, false, false, true, false, false, false, false, false, false];
        GradientChecker.Check("Attention bias", t => Ops.Attention(t[0], t[1], t[2], heads: 2, keyPaddingMask: mask, bias: t[3]),
            [RandomTensor(31, 2, 6, 4), RandomTensor(32, 2, 6, 4), RandomTensor(33, 2, 6, 4), RandomTensor(34, 2, 2, 6, 6)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.RelativePositionBias))]
    public void RelativePositionBias() => GradientChecker.Check("RelativePositionBias",
        t => Ops.RelativePositionBias(t[0], length: 12, maxDistance: 20), [RandomTensor(35, 32, 3)]);

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.GatedPositionBias))]
    public void GatedPositionBias() => GradientChecker.Check("GatedPositionBias",
        t => Ops.GatedPositionBias(t[0], heads: 2, t[1], t[2], t[3], t[4]),
        [RandomTensor(36, 2, 5, 6), RandomTensor(37, 8, 3), RandomTensor(38, 8), RandomTensor(39, 2), RandomTensor(40, 2, 5, 5)]);

    [TestMethod]
    [DataRow(320, 800, new[] { -5000, -800, -799, -200, -100, -81, -80, -79, -1, 0, 1, 79, 80, 81, 100, 200, 799, 800, 5000 },
        new[] { 159, 159, 159, 111, 87, 80, 80, 79, 1, 0, 161, 239, 240, 240, 247, 271, 319, 319, 319 })]
    [DataRow(32, 20, new[] { -30, -9, -8, -7, -1, 0, 1, 7, 8, 9, 30 }, new[] { 15, 9, 8, 7, 1, 0, 17, 23, 24, 25, 31 })]
    public void RelativeBucketsAreHuggingFacesWavLmBuckets(int buckets, int maxDistance, int[] offsets, int[] expected)
    {
        // Expected: Hugging Face's _relative_positions_bucket semantics evaluated in PyTorch 1.13 (float32 logarithm).
        CollectionAssert.AreEqual(expected, offsets.Select(o => Ops.RelativeBucket(o, buckets, maxDistance)).ToArray());
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Attention))]
    public void AttentionWithDropoutUsesTheSameMaskInBackward()
    {
        // Each evaluation draws from a fresh stream with the same seed, so the mask is fixed across evaluations.
        GradientChecker.Check("Attention dropout", t => Ops.Attention(t[0], t[1], t[2], heads: 1, dropout: 0.3f,
            random: new RandomSource(77)), [RandomTensor(24, 1, 5, 3), RandomTensor(25, 1, 5, 3), RandomTensor(26, 1, 5, 3)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Dropout))]
    public void DropoutUsesTheSameMaskInBackward() => GradientChecker.Check("Dropout",
        t => Ops.Dropout(t[0], 0.4f, new RandomSource(3)), [RandomTensor(27, 50)]);

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Add), nameof(Ops.Subtract), nameof(Ops.Multiply))]
    public void BroadcastingAddSubtractMultiply()
    {
        GradientChecker.Check("Add", t => Ops.Add(t[0], t[1]), [RandomTensor(28, 2, 3, 4), RandomTensor(29, 3, 1)]);
        GradientChecker.Check("Subtract", t => Ops.Subtract(t[0], t[1]), [RandomTensor(30, 4), RandomTensor(31, 2, 3, 4)]);
        GradientChecker.Check("Multiply", t => Ops.Multiply(t[0], t[1]), [RandomTensor(32, 2, 1, 4), RandomTensor(33, 2, 3, 1)]);
        GradientChecker.Check("Multiply same shape", t => Ops.Multiply(t[0], t[1]), [RandomTensor(34, 5), RandomTensor(35, 5)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Scale), nameof(Ops.GradScale))]
    public void ScaleAndGradScale()
    {
        GradientChecker.Check("Scale", t => Ops.Scale(t[0], -2.5f), [RandomTensor(36, 7)]);
        Tensor x = RandomTensor(37, 7);
        x.RequiresGrad = true;
        Tensor y = ForwardBackward(() => Ops.GradScale(x, 0.1f), Tensor.Full(1f, 7));
        CollectionAssert.AreEqual(x.ToArray(), y.ToArray(), "GradScale must be the identity forward");
        AssertClose(Enumerable.Repeat(0.1f, 7).ToArray(), x.Grad!.Span, 1e-7f, "GradScale backward");
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Concat), nameof(Ops.IndexSelect), nameof(Ops.Multiply), nameof(Ops.Reshape), nameof(Ops.Slice), nameof(Ops.Transpose))]
    public void ShapeOps()
    {
        GradientChecker.Check("Reshape", t => Ops.Multiply(Ops.Reshape(t[0], 3, -1), Ops.Reshape(t[0], 3, 4)), [RandomTensor(38, 2, 6)]);
        GradientChecker.Check("Transpose", t => Ops.Transpose(t[0], 1, 3), [RandomTensor(39, 2, 3, 2, 4)]);
        GradientChecker.Check("Transpose 2D", t => Ops.Transpose(t[0], 0, 1), [RandomTensor(40, 5, 3)]);
        GradientChecker.Check("Slice", t => Ops.Slice(t[0], 1, 1, 2), [RandomTensor(41, 2, 4, 3)]);
        GradientChecker.Check("IndexSelect", t => Ops.IndexSelect(t[0], 1, [2, 0, 2, 2]), [RandomTensor(42, 2, 3, 2)]);
        GradientChecker.Check("Concat", t => Ops.Concat([t[0], t[1], t[0]], 0), [RandomTensor(43, 1, 3), RandomTensor(44, 2, 3)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.Sum), nameof(Ops.Mean))]
    public void Reductions()
    {
        GradientChecker.Check("Sum", t => Ops.Sum(t[0]), [RandomTensor(45, 3, 4)]);
        GradientChecker.Check("Mean", t => Ops.Mean(t[0]), [RandomTensor(46, 3, 4)]);
        GradientChecker.Check("Sum dim", t => Ops.Sum(t[0], -1), [RandomTensor(47, 3, 4)]);
        GradientChecker.Check("Mean dim", t => Ops.Mean(t[0], 0, keepDim: true), [RandomTensor(48, 3, 4)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.CosineSimilarity))]
    public void CosineSimilarity() =>
        GradientChecker.Check("CosineSimilarity", t => Ops.CosineSimilarity(t[0], t[1]), [RandomTensor(49, 3, 5), RandomTensor(50, 3, 5)]);

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.CrossEntropy))]
    public void CrossEntropyMeanAndSum()
    {
        GradientChecker.Check("CrossEntropy", t => Ops.CrossEntropy(t[0], [2, -100, 0, 3]), [RandomTensor(51, 4, 5)]);
        GradientChecker.Check("CrossEntropy sum", t => Ops.CrossEntropy(t[0], [1, 1, 4], reduction: Reduction.Sum),
            [RandomTensor(52, 3, 5)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.WeightNorm))]
    public void WeightNormAllDimModes()
    {
        GradientChecker.Check("WeightNorm dim 2", t => Ops.WeightNorm(t[1], t[0], 2), [RandomTensor(53, 4, 2, 3), RandomTensor(54, 1, 1, 3)]);
        GradientChecker.Check("WeightNorm dim 0", t => Ops.WeightNorm(t[1], t[0], 0), [RandomTensor(55, 4, 2, 3), RandomTensor(56, 4, 1, 1)]);
        GradientChecker.Check("WeightNorm whole", t => Ops.WeightNorm(t[1], t[0], null), [RandomTensor(57, 4, 2, 3), RandomTensor(58, 1)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.GumbelSoftmaxHard))]
    public void GumbelSoftmaxStraightThroughGradientIsTheSoftGradient()
    {
        // The hard output is piecewise constant, so finite differences see zero; check the soft path instead:
        // the gradient must equal that of softmax((logits + noise) / tau) at the same point.
        Tensor logits = RandomTensor(59, 3, 5), noise = RandomTensor(60, 3, 5), g = RandomTensor(61, 3, 5);
        const float tau = 0.5f;
        logits.RequiresGrad = true;
        ForwardBackward(() => Ops.GumbelSoftmaxHard(logits, tau, noise).OneHot, g);
        float[] straightThrough = logits.Grad!.ToArray();
        logits.Grad = null;
        ForwardBackward(() => Ops.Softmax(Ops.Scale(Ops.Add(logits, noise), 1f / tau)), g);
        AssertClose(logits.Grad!.Span, straightThrough, 1e-6f, "straight-through gradient");
        GradientChecker.Check("soft path", t => Ops.Softmax(Ops.Scale(Ops.Add(t[0], noise), 1f / tau)), [RandomTensor(62, 3, 5)]);
    }

    [TestMethod]
    public void ChainedBlockOfOps()
    {
        // A small post-LN Transformer-like block: attention + residual + layer norm + feed-forward with GELU.
        GradientChecker.Check("block", t =>
        {
            Tensor attended = Ops.Attention(Ops.Linear(t[0], t[1]), t[0], t[0], heads: 2);
            Tensor normed = Ops.LayerNorm(Ops.Add(t[0], attended), null, null);
            return Ops.Add(normed, Ops.Linear(Ops.Gelu(Ops.Linear(normed, t[2])), t[3]));
        }, [RandomTensor(63, 1, 4, 4), RandomTensor(64, 4, 4), RandomTensor(65, 8, 4), RandomTensor(66, 4, 8)],
            relativeTolerance: 3e-2f);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.MaskedReplace))]
    public void MaskedReplaceByEmbeddingAndByZeros()
    {
        bool[] rows = [false, true, false, true, true, false];
        GradientChecker.Check("MaskedReplace embedding", t => Ops.MaskedReplace(t[0], rows, t[1]),
            [RandomTensor(67, 2, 3, 5), RandomTensor(68, 5)]);
        GradientChecker.Check("MaskedReplace zeros", t => Ops.MaskedReplace(t[0], rows, null), [RandomTensor(69, 6, 5)]);
    }

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.ProbabilityPerplexity))]
    public void ProbabilityPerplexity() => GradientChecker.Check("ProbabilityPerplexity",
        t => Ops.ProbabilityPerplexity(t[0]), [Scaled(RandomTensor(70, 7, 2, 5), 2f)], relativeTolerance: 3e-2f);

    [TestMethod]
    [ChecksGradientOf(nameof(Ops.CtcLoss))]
    public void CtcLossSumAndMeanWithRepeatedLabelsAndShortInputs()
    {
        // Log-probabilities as free variables: the loss is smooth in them, so finite differences apply directly.
        int[] targets = [1, 1, 2, 3, 2], targetLengths = [3, 2], inputLengths = [6, 4];
        foreach (Reduction reduction in new[] { Reduction.Sum, Reduction.Mean })
            GradientChecker.Check($"CtcLoss {reduction}", t => Ops.CtcLoss(t[0], targets, targetLengths, inputLengths, blank: 0, reduction),
                [Scaled(RandomTensor(71, 2, 6, 4), 2f)], relativeTolerance: 3e-2f);
    }

    /// <summary>Every public differentiable op needs a central-difference check here (see the checklist in Ops.cs).</summary>
    [TestMethod]
    public void EveryPublicOpHasAGradientCheck()
    {
        var ops = typeof(Ops).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(method => method.Name).ToHashSet();
        var checkedOps = typeof(GradientCheckTests).GetMethods()
            .SelectMany(method => method.GetCustomAttributes(typeof(ChecksGradientOfAttribute), false))
            .SelectMany(attribute => ((ChecksGradientOfAttribute)attribute).Ops).ToHashSet();
        CollectionAssert.AreEquivalent(Array.Empty<string>(), ops.Except(checkedOps).Order().ToArray(),
            "public ops without a gradient check");
        CollectionAssert.AreEquivalent(Array.Empty<string>(), checkedOps.Except(ops).Order().ToArray(),
            "gradient checks naming no public op");
    }

    private static Tensor Scaled(Tensor t, float factor)
    {
        System.Numerics.Tensors.TensorPrimitives.Multiply(t.Span, factor, t.Span);
        return t;
    }
}
