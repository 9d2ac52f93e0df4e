using Wav2Vec2.Autograd;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

[TestClass]
public sealed class GumbelVectorQuantizerTests
{
    [TestMethod]
    public void EvaluationPicksTheArgmaxCodevectorOfEachGroup()
    {
        var config = new Wav2Vec2Config { ConvDim = [8], ConvKernel = [10], ConvStride = [5], NumCodevectorGroups = 2, NumCodevectorsPerGroup = 5, CodevectorDim = 6 };
        var quantizer = new GumbelVectorQuantizer(config, new RandomSource(1));
        Tensor latents = TestSupport.RandomTensor(2, 7, 8);
        quantizer.Train(false);
        QuantizerOutput output = quantizer.Forward(latents, temperature: 2f, new RandomSource(3));
        var named = quantizer.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        Tensor logits = Ops.Linear(latents, named["weight_proj.weight"], named["weight_proj.bias"]);   // (7, 10)
        Tensor codebook = named["codevectors"];                                                                 // (1, 10, 3)
        for (int n = 0; n < 7; n++)
            for (int g = 0; g < 2; g++)
            {
                int best = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Span.Slice(n * 10 + g * 5, 5));
                Assert.AreEqual(best, output.Codes[n * 2 + g]);
                CollectionAssert.AreEqual(codebook.Span.Slice((g * 5 + best) * 3, 3).ToArray(), output.Codevectors.Span.Slice(n * 6 + g * 3, 3).ToArray());
            }
        // fairseq's code perplexity: per group, exp(entropy) of the histogram of the chosen codes, summed over groups.
        double expected = 0;
        for (int g = 0; g < 2; g++)
        {
            double entropy = 0;
            foreach (int count in Enumerable.Range(0, 5).Select(v => Enumerable.Range(0, 7).Count(n => output.Codes[n * 2 + g] == v)))
                entropy -= count / 7.0 * Math.Log(count / 7.0 + 1e-7);
            expected += Math.Exp(entropy);
        }
        Assert.AreEqual(expected, output.CodePerplexity, 1e-9);
    }

    [TestMethod]
    public void TrainingSamplesHardOneHotCodesWithAStraightThroughGradient()
    {
        var config = new Wav2Vec2Config { ConvDim = [8], ConvKernel = [10], ConvStride = [5], NumCodevectorGroups = 2, NumCodevectorsPerGroup = 5, CodevectorDim = 6 };
        var quantizer = new GumbelVectorQuantizer(config, new RandomSource(1));
        Tensor latents = TestSupport.RandomTensor(2, 7, 8);
        using var tape = new Tape();
        QuantizerOutput output = quantizer.Forward(latents, temperature: 0.5f, new RandomSource(3));
        var codebook = quantizer.NamedParameters().Single(p => p.Name == "codevectors").Parameter;
        for (int r = 0; r < 14; r++)
            AssertIsOneCodevector(output, codebook, r);   // hard: each group's output is exactly one of its codevectors
        tape.Backward(Ops.Sum(output.Codevectors));
        var proj = quantizer.NamedParameters().Single(p => p.Name == "weight_proj.weight").Parameter;

        // Straight-through by hand: d sum(codevectors) / d one-hot[r, v] is the sum of codevector v of row r's group;
        // the Gumbel op (same seed, so the same noise) carries it to the logits, and the linear layer to its weight.
        var bias = quantizer.NamedParameters().Single(p => p.Name == "weight_proj.bias").Parameter;
        Tensor weight = Tensor.FromArray(proj.ToArray(), 10, 8);
        weight.RequiresGrad = true;
        var oneHotGrad = new float[14 * 5];
        for (int r = 0; r < 14; r++)
            for (int v = 0; v < 5; v++)
                oneHotGrad[r * 5 + v] = codebook.Span.Slice(((r % 2) * 5 + v) * 3, 3).ToArray().Sum();
        using (var expected = new Tape())
        {
            Tensor logits = Ops.Reshape(Ops.Linear(latents, weight, Tensor.FromArray(bias.ToArray(), 10)), 14, 5);
            (Tensor oneHot, _) = Ops.GumbelSoftmaxHard(logits, 0.5f, new RandomSource(3));
            expected.Backward(oneHot, Tensor.FromArray(oneHotGrad, 14, 5));
        }
        AssertClose(weight.Grad!.Span, proj.Grad!.Span, 1e-5f, "weight_proj gradient through the soft sample");
    }

    [TestMethod]
    public void TrainingReportsTheSampledCodesAndKeepsArgmaxForTheCodePerplexity()
    {
        // fairseq compares the sampled targets for its "distractor equals positive" test: the codes must be the sampled
        // entries (whose codevectors were output), not the argmax; only code_perplexity uses the argmax.
        var config = new Wav2Vec2Config { ConvDim = [8], ConvKernel = [10], ConvStride = [5], NumCodevectorGroups = 2, NumCodevectorsPerGroup = 5, CodevectorDim = 6 };
        var quantizer = new GumbelVectorQuantizer(config, new RandomSource(1));
        Tensor latents = TestSupport.RandomTensor(2, 40, 8);
        QuantizerOutput output = quantizer.Forward(latents, temperature: 2f, new RandomSource(3));
        var named = quantizer.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        Tensor logits = Ops.Reshape(Ops.Linear(latents, named["weight_proj.weight"], named["weight_proj.bias"]), 80, 5);
        (_, int[] sampled) = Ops.GumbelSoftmaxHard(logits, 2f, new RandomSource(3));
        CollectionAssert.AreEqual(sampled, output.Codes, "codes are the Gumbel samples");
        int[] argmax = Enumerable.Range(0, 80).Select(r => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Span.Slice(r * 5, 5))).ToArray();
        Assert.IsTrue(sampled.Where((c, r) => c != argmax[r]).Count() >= 10, "the noise moves many samples off the argmax");
        Tensor codebook = named["codevectors"];
        for (int r = 0; r < 80; r++)
            CollectionAssert.AreEqual(codebook.Span.Slice(((r % 2) * 5 + sampled[r]) * 3, 3).ToArray(), output.Codevectors.Span.Slice(r * 3, 3).ToArray(), $"row {r}");
        quantizer.Train(false);
        Assert.AreEqual(quantizer.Forward(latents, 2f, new RandomSource(3)).CodePerplexity, output.CodePerplexity, 1e-12,
            "code perplexity counts the argmax codes in training as in evaluation");
    }

    // Row `row` of the (frames * groups, 3) outputs must equal one codevector of its group.
    // Row `row` of the (frames * groups, 3) outputs must equal one codevector of its group.
    private static void AssertIsOneCodevector(QuantizerOutput output, Tensor codebook, int row)
    {
        int group = row % 2;
        bool found = Enumerable.Range(0, 5).Any(v =>
            codebook.Span.Slice((group * 5 + v) * 3, 3).SequenceEqual(output.Codevectors.Span.Slice(row * 3, 3)));
        Assert.IsTrue(found, $"row {row} is not a codevector of group {group}");
    }
}
