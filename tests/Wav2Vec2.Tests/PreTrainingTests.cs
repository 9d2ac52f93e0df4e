using Wav2Vec2.Autograd;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using static Wav2Vec2.Tests.ModelParityTests;

namespace Wav2Vec2.Tests;

[TestClass]
public sealed class PreTrainingTests
{
    [TestMethod]
    public void EvaluationLossTermsMatchPyTorchForGivenMasksAndDistractors()
    {
        var model = Wav2Vec2ForPreTraining.FromPretrained(FixturePath("models", "pretraining"), strict: true, out LoadReport report);
        Assert.AreEqual(0, report.Missing.Count + report.Ignored.Count);
        model.Train(false);
        using var reference = SafeTensorsFile.Open(FixturePath("pretraining.reference.safetensors"));
        bool[] mask = reference.Read("mask").ToArray().Select(v => v != 0).ToArray();
        int[] negatives = reference.Read("negatives").ToArray().Select(v => (int)v).ToArray();
        PreTrainingOutput output = model.Forward(reference.Read("input_values"), mask, negatives, temperature: 2f);
        PreTrainingMetrics m = output.Metrics;
        void Close(string name, double actual)
        {
            double expected = reference.Read(name).ToScalar();
            Assert.IsTrue(Math.Abs(expected - actual) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"{name}: expected {expected}, got {actual}");
        }
        Close("loss", m.Loss);
        Close("contrastive_loss", m.ContrastiveLoss);
        Close("diversity_loss", m.DiversityLoss);
        Close("feature_penalty", m.FeaturePenalty);
        Close("prob_perplexity", m.ProbPerplexity);
        Close("code_perplexity", m.CodePerplexity);
        Assert.AreEqual((int)reference.Read("correct").ToScalar(), m.Correct);
        Assert.AreEqual(80, m.MaskedFrames);
    }

    [TestMethod]
    public void MaskSamplingFollowsFairseq()
    {
        var random = new RandomSource(11);
        bool[] mask = SpanMasking.ComputeMaskIndices(4, 200, 0.65f, 10, 2, random, [200, 180, 150, 200]);
        int[] counts = Enumerable.Range(0, 4).Select(b => mask.Skip(b * 200).Take(200).Count(v => v)).ToArray();
        Assert.IsTrue(counts.All(c => c == counts[0]), $"same count per utterance: {string.Join(",", counts)}");
        // Spans overlap, so about 1 - e^-0.65... of the shortest item's 150 frames are masked, well above min_masks * 10.
        Assert.IsTrue(counts[0] is > 40 and <= 150, $"masked {counts[0]}");
        Assert.IsFalse(mask.Skip(2 * 200 + 150).Take(50).Any(v => v), "padding is never masked");
        bool[] again = SpanMasking.ComputeMaskIndices(4, 200, 0.65f, 10, 2, new RandomSource(11), [200, 180, 150, 200]);
        CollectionAssert.AreEqual(mask, again, "seeded");
        bool[] tiny = SpanMasking.ComputeMaskIndices(1, 30, 0.01f, 10, 2, new RandomSource(1));
        Assert.IsTrue(tiny.Count(v => v) >= 10, "min_masks spans are placed even at a low probability");
        // A single span of 10 at probability 1 covers exactly 10 consecutive frames.
        bool[] one = SpanMasking.ComputeMaskIndices(1, 11, 0.5f, 10, 1, new RandomSource(2));
        Assert.AreEqual(10, one.Count(v => v));
    }

    [TestMethod]
    public void NegativesComeFromOtherMaskedFramesOfTheSameUtterance()
    {
        int[] negatives = SpanMasking.SampleNegatives(3, 7, 50, new RandomSource(5));
        for (int i = 0; i < negatives.Length; i++)
        {
            int positive = i / 50;
            Assert.AreNotEqual(positive, negatives[i], "never the positive frame");
            Assert.AreEqual(positive / 7, negatives[i] / 7, "same utterance");
        }
        Assert.AreEqual(7, negatives.Take(7 * 50).Distinct().Count(), "every other masked frame is drawn");
        Assert.ThrowsExactly<ArgumentException>(() => SpanMasking.SampleNegatives(1, 1, 5, new RandomSource(1)));
    }

    [TestMethod]
    public void WholeLossGradientMatchesFiniteDifferences()
    {
        var model = Wav2Vec2ForPreTraining.FromPretrained(FixturePath("models", "pretraining"), strict: true, out _);
        model.Train(false);
        using var reference = SafeTensorsFile.Open(FixturePath("pretraining.reference.safetensors"));
        Tensor input = reference.Read("input_values");
        bool[] mask = reference.Read("mask").ToArray().Select(v => v != 0).ToArray();
        int[] negatives = reference.Read("negatives").ToArray().Select(v => (int)v).ToArray();
        var named = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        // One parameter from each part: conv encoder, transformer, quantizer logits, codevectors, both projections.
        string[] names = ["wav2vec2.feature_extractor.conv_layers.1.conv.weight", "wav2vec2.encoder.layers.1.attention.q_proj.weight",
            "quantizer.weight_proj.bias", "quantizer.codevectors", "project_q.weight", "project_hid.bias", "wav2vec2.masked_spec_embed"];
        Tensor[] probes = names.Select(n => (Tensor)named[n]).ToArray();
        GradientChecker.Check("pre-training loss", _ => model.Forward(input, mask, negatives, 2f).Loss, probes,
            eps: 2e-3f, relativeTolerance: 5e-2f, absoluteTolerance: 5e-2f, samplesPerInput: 6);
    }
}

[TestClass]
public sealed class QuantizerTests
{
    [TestMethod]
    public void EvaluationPicksTheArgmaxCodevectorOfEachGroup()
    {
        var config = new Wav2Vec2Config { ConvDim = [8], ConvKernel = [10], ConvStride = [5], NumCodevectorGroups = 2, NumCodevectorsPerGroup = 5, CodevectorDim = 6 };
        var quantizer = new GumbelVectorQuantizer(config, new RandomSource(1));
        Tensor latents = TestSupport.RandomTensor(2, 7, 8);
        QuantizerOutput output = quantizer.Forward(latents, training: false, temperature: 2f, new RandomSource(3));
        var named = quantizer.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        Tensor logits = Autograd.Ops.Linear(latents, named["weight_proj.weight"], named["weight_proj.bias"]);   // (7, 10)
        Tensor codebook = named["codevectors"];                                                                 // (1, 10, 3)
        for (int n = 0; n < 7; n++)
            for (int g = 0; g < 2; g++)
            {
                int best = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Span.Slice(n * 10 + g * 5, 5));
                Assert.AreEqual(best, output.Codes[n * 2 + g]);
                CollectionAssert.AreEqual(codebook.Span.Slice((g * 5 + best) * 3, 3).ToArray(), output.Codevectors.Span.Slice(n * 6 + g * 3, 3).ToArray());
            }
        Assert.IsTrue(output.CodePerplexity is >= 1 and <= 10);
    }

    [TestMethod]
    public void TrainingSamplesHardOneHotCodesWithAStraightThroughGradient()
    {
        var config = new Wav2Vec2Config { ConvDim = [8], ConvKernel = [10], ConvStride = [5], NumCodevectorGroups = 2, NumCodevectorsPerGroup = 5, CodevectorDim = 6 };
        var quantizer = new GumbelVectorQuantizer(config, new RandomSource(1));
        Tensor latents = TestSupport.RandomTensor(2, 7, 8);
        using var tape = new Autograd.Tape();
        QuantizerOutput output = quantizer.Forward(latents, training: true, temperature: 0.5f, new RandomSource(3));
        var codebook = quantizer.NamedParameters().Single(p => p.Name == "codevectors").Parameter;
        for (int r = 0; r < 14; r++)
            AssertIsOneCodevector(output, codebook, r);   // hard: each group's output is exactly one of its codevectors
        tape.Backward(Autograd.Ops.Sum(output.Codevectors));
        var proj = quantizer.NamedParameters().Single(p => p.Name == "weight_proj.weight").Parameter;
        Assert.IsTrue(proj.Grad!.ToArray().Any(v => v != 0), "the logits get a gradient through the soft sample");
    }

    // Row `row` of the (frames * groups, 3) outputs must equal one codevector of its group.
    private static void AssertIsOneCodevector(QuantizerOutput output, Tensor codebook, int row)
    {
        int group = row % 2;
        bool found = Enumerable.Range(0, 5).Any(v =>
            codebook.Span.Slice((group * 5 + v) * 3, 3).SequenceEqual(output.Codevectors.Span.Slice(row * 3, 3)));
        Assert.IsTrue(found, $"row {row} is not a codevector of group {group}");
    }
}
