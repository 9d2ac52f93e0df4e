using System.Text.Json.Nodes;
using Wav2Vec2.Autograd;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

[TestClass]
public sealed class PreTrainingTests : TempDirectoryTest
{
    [TestMethod]
    public void ATrainingStepGivesTheTwinsLossAndEveryGradient()
    {
        // tools/pretrain_twin.py step-fixture: the same model in training mode without dropout, the same masks,
        // distractors and Gumbel noise; straight-through hard codes, a tenth of the gradient into the conv encoder.
        string directory = CopyModelFixture("pretraining");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))!.AsObject();
        foreach (string field in new[] { "hidden_dropout", "attention_dropout", "activation_dropout", "feat_proj_dropout", "feat_quantizer_dropout", "layerdrop" })
            config[field] = 0.0;
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        var model = Wav2Vec2ForPreTraining.FromPretrained(directory);
        model.Train(true);
        using var reference = SafeTensorsFile.Open(FixturePath("pretraining_step.reference.safetensors"));
        bool[] mask = reference.Read("mask").ToArray().Select(v => v != 0).ToArray();
        int[] negatives = reference.Read("negatives").ToArray().Select(v => (int)v).ToArray();
        model.Quantizer.ReplayNoise = reference.Read("noise");
        PreTrainingOutput output;
        using (var tape = new Tape())
        {
            output = model.Forward(reference.Read("input_values"), mask, negatives, (float)reference.Read("temperature").ToScalar());
            tape.Backward(output.Loss);
        }
        PreTrainingMetrics m = output.Metrics;
        foreach (var (name, actual) in new[] { ("loss", m.Loss), ("contrastive_loss", m.ContrastiveLoss), ("diversity_loss", m.DiversityLoss),
            ("feature_penalty", m.FeaturePenalty), ("prob_perplexity", m.ProbPerplexity), ("code_perplexity", m.CodePerplexity), ("correct", m.Correct) })
        {
            double expected = reference.Read(name).ToScalar();
            Assert.IsTrue(Math.Abs(expected - actual) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"{name}: twin {expected}, ours {actual}");
        }
        int compared = 0;
        foreach (var (name, parameter) in model.NamedParameters())
        {
            Assert.IsNotNull(parameter.Grad, $"{name} got no gradient");
            AssertClose(reference.Read("grad." + name).Span, parameter.Grad.Span, 1e-4f, $"gradient of {name}");
            compared++;
        }
        Assert.AreEqual(reference.Entries.Keys.Count(n => n.StartsWith("grad.", StringComparison.Ordinal)), compared, "every parameter's gradient");
    }

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
