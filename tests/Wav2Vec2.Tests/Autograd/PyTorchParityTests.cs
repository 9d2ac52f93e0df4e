using Wav2Vec2.Autograd;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Autograd;

/// <summary>
/// Every op against PyTorch 1.13 (tools/export_engine_reference.py): the output and the gradient of each input for
/// the recorded upstream gradient "op.gout".
/// </summary>
[TestClass]
public sealed class PyTorchParityTests
{
    private const float Tolerance = 1e-5f;

    private static void Check(string op, Func<Tensor[], Tensor> forward, params string[] inputs)
    {
        Tensor[] leaves = inputs.Select(name => Leaf($"{op}.{name}")).ToArray();
        Tensor output = ForwardBackward(() => forward(leaves), EngineFixture.Read($"{op}.gout"));
        AssertClose(EngineFixture.Read($"{op}.out").Span, output.Span, Tolerance, $"{op} output");
        for (int i = 0; i < inputs.Length; i++)
            AssertClose(EngineFixture.Read($"{op}.grad_{inputs[i]}").Span, leaves[i].Grad!.Span, Tolerance,
                $"{op} gradient of {inputs[i]}");
    }

    [TestMethod]
    public void Linear() => Check("linear", t => Ops.Linear(t[0], t[1], t[2]), "x", "w", "b");

    [TestMethod]
    public void BatchedMatMul() => Check("matmul", t => Ops.MatMul(t[0], t[1]), "a", "b");

    [TestMethod]
    public void BatchedMatMulTransposedB() =>
        Check("matmul_tb", t => Ops.MatMul(t[0], t[1], transposeB: true), "a", "b");

    [TestMethod]
    public void Conv1dGroupedStridedPadded() =>
        Check("conv", t => Ops.Conv1d(t[0], t[1], t[2], stride: 2, padding: 1, groups: 2), "x", "w", "b");

    // The channels-last ops against the same fixtures, through transposes: (B, C, T) -> (B, T, C) -> op -> back.
    [TestMethod]
    public void Conv1dChannelsLastGroupedStridedPadded() => Check("conv", t => Ops.Transpose(
        Ops.Conv1dChannelsLast(Ops.Transpose(t[0], 1, 2), t[1], t[2], stride: 2, padding: 1, groups: 2), 1, 2), "x", "w", "b");

    [TestMethod]
    public void Conv1dChannelsLastFirstFeatureEncoderLayer() => Check("conv_first",
        t => Ops.Transpose(Ops.Conv1dChannelsLast(Ops.Transpose(t[0], 1, 2), t[1], null, stride: 5), 1, 2), "x", "w");

    [TestMethod]
    public void GroupNormChannelsLast()
    {
        foreach ((string op, int groups) in new[] { ("groupnorm", 3), ("groupnorm_per_channel", 6) })
            Check(op, t => Ops.Transpose(Ops.GroupNormChannelsLast(
                Ops.Transpose(Ops.Add(t[0], Tensor.Scalar(1.5f)), 1, 2), groups, t[1], t[2]), 1, 2), "x", "gamma", "beta");
    }

    [TestMethod]
    public void Conv1dFirstFeatureEncoderLayer() =>
        Check("conv_first", t => Ops.Conv1d(t[0], t[1], null, stride: 5), "x", "w");

    [TestMethod]
    public void GroupNorm() => Check("groupnorm",
        t => Ops.GroupNorm(Ops.Add(t[0], Tensor.Scalar(1.5f)), 3, t[1], t[2]), "x", "gamma", "beta");

    [TestMethod]
    public void GroupNormOneGroupPerChannel() => Check("groupnorm_per_channel",
        t => Ops.GroupNorm(Ops.Add(t[0], Tensor.Scalar(1.5f)), 6, t[1], t[2]), "x", "gamma", "beta");

    [TestMethod]
    public void LayerNormLastDim() => Check("layernorm", t => Ops.LayerNorm(t[0], t[1], t[2]), "x", "gamma", "beta");

    [TestMethod]
    public void LayerNormOverChannels() =>
        Check("layernorm_channels", t => Ops.LayerNorm(t[0], t[1], t[2], dim: 1), "x", "gamma", "beta");

    [TestMethod]
    public void ExactGelu() => Check("gelu", t => Ops.Gelu(t[0]), "x");

    [TestMethod]
    public void Softmax() => Check("softmax", t => Ops.Softmax(t[0]), "x");

    [TestMethod]
    public void LogSoftmax() => Check("log_softmax", t => Ops.LogSoftmax(t[0]), "x");

    [TestMethod]
    public void MultiHeadAttentionWithKeyPadding()
    {
        bool[] mask = EngineFixture.Read("attention.mask").ToArray().Select(v => v != 0).ToArray();
        Check("attention", t => Ops.Attention(t[0], t[1], t[2], heads: 2, keyPaddingMask: mask), "q", "k", "v");
    }

    [TestMethod]
    public void BroadcastAdd() => Check("add", t => Ops.Add(t[0], t[1]), "a", "b");

    [TestMethod]
    public void BroadcastMultiply() => Check("mul", t => Ops.Multiply(t[0], t[1]), "a", "b");

    [TestMethod]
    public void BroadcastSubtract() => Check("sub", t => Ops.Subtract(t[0], t[1]), "a", "b");

    [TestMethod]
    public void Transpose() => Check("transpose", t => Ops.Transpose(t[0], 0, 2), "x");

    [TestMethod]
    public void Slice() => Check("slice", t => Ops.Slice(t[0], 1, 2, 3), "x");

    [TestMethod]
    public void IndexSelect() =>
        Check("index_select", t => Ops.IndexSelect(t[0], 0, Indices("index_select.indices")), "x");

    [TestMethod]
    public void Concat() => Check("concat", t => Ops.Concat([t[0], t[1]], 1), "x", "y");

    [TestMethod]
    public void SumOverDim() => Check("sum_dim", t => Ops.Sum(t[0], 1), "x");

    [TestMethod]
    public void MeanOverDimKeepDim() => Check("mean_dim", t => Ops.Mean(t[0], 1, keepDim: true), "x");

    [TestMethod]
    public void CosineSimilarity() => Check("cosine", t => Ops.CosineSimilarity(t[0], t[1]), "a", "b");

    [TestMethod]
    public void CrossEntropyMeanWithIgnoreIndex() =>
        Check("cross_entropy", t => Ops.CrossEntropy(t[0], Indices("cross_entropy.targets")), "logits");

    [TestMethod]
    public void CrossEntropySum() => Check("cross_entropy_sum",
        t => Ops.CrossEntropy(t[0], Indices("cross_entropy_sum.targets"), reduction: Reduction.Sum), "logits");

    [TestMethod]
    public void WeightNormKeepingLastDim() => Check("weight_norm", t => Ops.WeightNorm(t[1], t[0], 2), "v", "g");

    [TestMethod]
    public void WeightNormKeepingFirstDim() => Check("weight_norm_dim0", t => Ops.WeightNorm(t[1], t[0], 0), "v", "g");

    [TestMethod]
    public void HardGumbelSoftmaxStraightThrough()
    {
        Tensor noise = EngineFixture.Read("gumbel.noise");
        float tau = EngineFixture.Read("gumbel.tau").ToScalar();
        Check("gumbel", t => Ops.GumbelSoftmaxHard(t[0], tau, noise).OneHot, "logits");
    }

    [TestMethod]
    [DataRow("sum")]
    [DataRow("mean")]
    public void CtcLossOfLogSoftmaxWithRepeatsAFullLengthAndAnImpossibleTarget(string reduction)
    {
        Tensor logits = Leaf("ctc.logits");
        Tensor loss = ForwardBackward(() => Ops.CtcLoss(Ops.LogSoftmax(logits), Indices("ctc.targets"),
            Indices("ctc.target_lengths"), Indices("ctc.input_lengths"), blank: 0,
            reduction == "sum" ? Reduction.Sum : Reduction.Mean, zeroInfinity: true), Tensor.Scalar(1f));
        AssertClose(EngineFixture.Read($"ctc_{reduction}.out").Span, loss.Span, Tolerance, $"ctc {reduction} loss");
        AssertClose(EngineFixture.Read($"ctc_{reduction}.grad_logits").Span, logits.Grad!.Span, Tolerance,
            $"ctc {reduction} gradient of the logits");
    }

    [TestMethod]
    public void CtcLossPerUtteranceIsInfiniteOnlyForTheImpossibleTarget()
    {
        Tensor logProbs = Ops.LogSoftmax(EngineFixture.Read("ctc.logits"));
        int[] targets = Indices("ctc.targets"), targetLengths = Indices("ctc.target_lengths"), inputLengths = Indices("ctc.input_lengths");
        float[] expected = EngineFixture.Read("ctc_none.out").ToArray();
        int frames = logProbs.Size(1), classes = logProbs.Size(2), offset = 0;
        for (int b = 0; b < 3; b++)
        {
            Tensor one = Tensor.FromArray(logProbs.Span.Slice(b * frames * classes, frames * classes).ToArray(), 1, frames, classes);
            float loss = Ops.CtcLoss(one, targets[offset..(offset + targetLengths[b])], [targetLengths[b]], [inputLengths[b]], 0).ToScalar();
            offset += targetLengths[b];
            if (float.IsPositiveInfinity(expected[b]))
                Assert.IsTrue(float.IsPositiveInfinity(loss), $"utterance {b}: impossible target, loss {loss}");
            else
                Assert.AreEqual(expected[b], loss, Tolerance * Math.Max(1, expected[b]), $"utterance {b}");
        }
    }
}
