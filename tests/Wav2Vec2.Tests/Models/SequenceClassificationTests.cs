using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.IO;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

[TestClass]
public sealed class SequenceClassificationTests : TempDirectoryTest
{
    // The pre-training test model (layer-norm conv encoder, so that a padded batch is exact) with three classes.
    private static Wav2Vec2ForSequenceClassification Model(bool weighted, Wav2Vec2Config? config = null)
    {
        config ??= PreTrainableConfig();
        config.FeatExtractNorm = FeatureEncoderNorm.Layer;
        config.ConvBias = true;
        (config.ClassifierProjSize, config.UseWeightedLayerSum) = (24, weighted);
        config.SetLabels(["low", "middle", "high"]);
        var model = new Wav2Vec2ForSequenceClassification(config, new RandomSource(3));
        model.Train(false);
        if (weighted)
            Tensor.FromArray([0.5f, -1f, 2f], 3).Span.CopyTo(model.NamedParameters().Single(p => p.Name == "layer_weights").Parameter.Span);
        return model;
    }

    [TestMethod]
    public void LogitsAreTheClassifierOfTheProjectionAveragedOverEachUtterancesValidFrames()
    {
        foreach (bool weighted in new[] { false, true })
        {
            Wav2Vec2ForSequenceClassification model = Model(weighted);
            var named = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.ToArray());
            Tensor input = RandomTensor(4, 2, 8000);
            var options = new Wav2Vec2ForwardOptions { SampleLengths = [8000, 5000] };
            Tensor logits = model.Forward(input, options: options).Logits;
            Wav2Vec2Output output = model.Backbone.Forward(input, options with { OutputHiddenStates = true });

            // The same head written out with plain arrays: softmax layer weights, projector, masked mean, classifier.
            int frames = output.LastHiddenState.Size(1), hidden = 64, projected = 24, classes = 3;
            double[] layerWeights = weighted ? Softmax(named["layer_weights"]) : [];
            for (int b = 0; b < 2; b++)
            {
                int valid = output.FrameLengths[b];
                var pooled = new double[projected];
                for (int t = 0; t < valid; t++)
                    for (int p = 0; p < projected; p++)
                    {
                        double sum = named["projector.bias"][p];
                        for (int h = 0; h < hidden; h++)
                        {
                            int at = (b * frames + t) * hidden + h;
                            double x = weighted ? Enumerable.Range(0, 3).Sum(l => layerWeights[l] * output.HiddenStates[l].Span[at]) : output.LastHiddenState.Span[at];
                            sum += named["projector.weight"][p * hidden + h] * x;
                        }
                        pooled[p] += sum / valid;
                    }
                for (int c = 0; c < classes; c++)
                {
                    double expected = named["classifier.bias"][c] + Enumerable.Range(0, projected).Sum(p => named["classifier.weight"][c * projected + p] * pooled[p]);
                    Assert.AreEqual(expected, logits.Span[b * classes + c], 1e-4, $"weighted {weighted}, utterance {b}, class {c}");
                }
            }
            SequenceClassificationOutput loss = model.Forward(input, [2, 0], options);
            double crossEntropy = 0;
            foreach (var (b, label) in new[] { (0, 2), (1, 0) })
            {
                double[] row = Enumerable.Range(0, classes).Select(c => (double)logits.Span[b * classes + c]).ToArray();
                crossEntropy += Math.Log(row.Sum(Math.Exp)) - row[label];
            }
            CollectionAssert.AreEqual(logits.ToArray(), loss.Logits.ToArray(), "the same logits with labels");
            Assert.AreEqual(crossEntropy / 2, loss.Loss!.ToScalar(), 1e-5, "mean cross-entropy, as Hugging Face's");
            Assert.IsNull(model.Forward(input, options: options).Loss, "no labels, no loss");
        }
    }

    [TestMethod]
    public void APaddedUtteranceGetsTheLogitsItGetsAlone()
    {
        Wav2Vec2ForSequenceClassification model = Model(weighted: true);
        Tensor batch = RandomTensor(6, 2, 8000);
        Tensor logits = model.Forward(batch, options: new Wav2Vec2ForwardOptions { SampleLengths = [8000, 5200] }).Logits;
        Tensor alone = model.Forward(Tensor.FromArray(batch.Span.Slice(8000, 5200).ToArray(), 1, 5200)).Logits;
        AssertClose(alone.Span, logits.Span[3..], 1e-4f, "second utterance");

        // Probabilities prepares a clip as the preprocessor says (normalised) and pools all of its frames.
        var clip = new AudioClip(batch.Span.Slice(8000, 5200).ToArray(), 16000);
        float[] probabilities = model.Probabilities([clip])[0];
        float[] normalised = model.Preprocessor.Prepare(clip);
        AssertClose(Ops.Softmax(model.Forward(Tensor.FromArray(normalised, 1, normalised.Length)).Logits).Span, probabilities, 1e-4f, "probabilities");
        Assert.AreEqual(1.0, probabilities.Sum(), 1e-5);
    }

    [TestMethod]
    public void WholeLossGradientOfAPaddedMaskedBatchMatchesFiniteDifferences()
    {
        Wav2Vec2Config config = PreTrainableConfig();
        config.MaskTimeProb = 0.5f;
        Wav2Vec2ForSequenceClassification model = Model(weighted: true, config);
        Tensor input = RandomTensor(4, 2, 8000);
        var options = new Wav2Vec2ForwardOptions { SampleLengths = [8000, 6000], MaskTimeIndices = new bool[2 * 199] };
        for (int t = 20; t < 40; t++)
            options.MaskTimeIndices[t] = options.MaskTimeIndices[199 + t] = true;
        var named = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        string[] names = ["layer_weights", "projector.weight", "projector.bias", "classifier.weight", "classifier.bias",
            "wav2vec2.masked_spec_embed", "wav2vec2.encoder.layers.1.attention.k_proj.weight", "wav2vec2.feature_projection.projection.weight"];
        GradientChecker.Check("classification loss", _ => model.Forward(input, [1, 2], options).Loss!,
            names.Select(n => (Tensor)named[n]).ToArray(), eps: 2e-3f, relativeTolerance: 5e-2f, absoluteTolerance: 5e-3f, samplesPerInput: 6);
    }

    [TestMethod]
    public void SavesAndLoadsWithHuggingFaceNamesAndClasses()
    {
        Wav2Vec2ForSequenceClassification model = Model(weighted: true);
        string directory = Path.Combine(TempDirectory, "classifier");
        model.SavePretrained(directory);
        using (var weights = SafeTensorsFile.Open(Path.Combine(directory, "model.safetensors")))
        {
            string[] names = weights.Entries.Keys.ToArray();
            CollectionAssert.IsSubsetOf(new[] { "layer_weights", "projector.weight", "projector.bias", "classifier.weight", "classifier.bias",
                "wav2vec2.feature_projection.projection.weight" }, names);
            CollectionAssert.AreEqual(new[] { 3, 24 }, weights.Entries["classifier.weight"].Shape);
        }
        string json = File.ReadAllText(Path.Combine(directory, "config.json"));
        foreach (string field in new[] { "\"Wav2Vec2ForSequenceClassification\"", "\"id2label\"", "\"2\": \"high\"", "\"label2id\"", "\"middle\": 1",
            "\"classifier_proj_size\": 24", "\"use_weighted_layer_sum\": true" })
            StringAssert.Contains(json, field);

        var loaded = Wav2Vec2ForSequenceClassification.FromPretrained(directory);
        CollectionAssert.AreEqual(new[] { "low", "middle", "high" }, loaded.Config.Labels.ToArray());
        Tensor input = RandomTensor(9, 1, 6000);
        CollectionAssert.AreEqual(model.Forward(input).Logits.ToArray(), loaded.Forward(input).Logits.ToArray(), "the same logits");

        // Other models read the backbone and report the classification head as ignored.
        Wav2Vec2Model.FromPretrained(directory, strict: true, out LoadReport report);
        CollectionAssert.AreEquivalent(new[] { "layer_weights", "projector.weight", "projector.bias", "classifier.weight", "classifier.bias" },
            report.Ignored.ToArray());
        Wav2Vec2ForCtc.FromPretrained(directory, strict: false, out LoadReport ctc);
        CollectionAssert.AreEquivalent(new[] { "lm_head.weight", "lm_head.bias" }, ctc.Missing.ToArray());
    }

    [TestMethod]
    public void ConfigsWithoutClassesHaveHuggingFacesTwoDefaultLabelsAndBadIdsAreRejected()
    {
        Assert.AreEqual("LABEL_0,LABEL_1", string.Join(",", new Wav2Vec2Config().Labels));
        Assert.IsFalse(new Wav2Vec2Config().ToJson().Contains("id2label", StringComparison.Ordinal), "unset classes are not written");
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2Config.FromJson("""{"id2label": {"0": "a", "2": "b"}}"""));
        StringAssert.Contains(error.Message, "id2label must map the ids 0 to n - 1 to names");
        Assert.ThrowsExactly<ArgumentException>(() => new Wav2Vec2Config().SetLabels(["a", "a"]));
    }

    private static double[] Softmax(float[] x)
    {
        double max = x.Max();
        double[] e = x.Select(v => Math.Exp(v - max)).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }
}
