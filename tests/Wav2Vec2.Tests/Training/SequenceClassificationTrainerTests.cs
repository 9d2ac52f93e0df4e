using Wav2Vec2.Data;
using Wav2Vec2.IO;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using Wav2Vec2.Tests.MLNet;
using Wav2Vec2.Training;

namespace Wav2Vec2.Tests.Training;

[TestClass]
public sealed class SequenceClassificationTrainerTests : TempDirectoryTest
{
    // Three pitches, four in-memory clips each (labels "c0".."c2"), and a random "pre-trained" model beside them.
    private (AudioDataset Data, string Pretrained) Setup()
    {
        var random = new Random(3);
        var entries = new List<AudioEntry>();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 4; i++)
                entries.Add(AudioEntry.InMemory($"c{c}_{i}", MLNetTestData.Tone(220 * (c + 1) * (1 + 0.02 * i), 0.3, 16000, random)) with { Label = $"c{c}" });
        string pretrained = Path.Combine(TempDirectory, "pretrained");
        new Wav2Vec2ForPreTraining(PreTrainableConfig(), new RandomSource(5)).SavePretrained(pretrained);
        return (AudioDataset.FromEntries(entries), pretrained);
    }

    private static SequenceClassificationOptions Quick(int updates) =>
        new TrainingOverrides { MaxUpdates = updates, LearningRate = 2e-3f, Seed = 7, LogInterval = 10, ValidateInterval = 0, SaveInterval = 0, MaxTokens = 20_000 }
            .ApplyTo(new SequenceClassificationOptions
            {
                ClassifierProjSize = 16,
                Regularization = new RegularizationOptions
                {
                    FeatureGradMult = 1f, MaskTimeProb = 0f, LayerDrop = 0f, HiddenDropout = 0f, AttentionDropout = 0f, ActivationDropout = 0f,
                },
            });

    [TestMethod]
    public void LearnsToTellThreePitchesApartFromInMemoryClips()
    {
        (AudioDataset data, string pretrained) = Setup();
        IReadOnlyList<string> classes = SequenceClassificationTrainer.CollectLabels(data);
        CollectionAssert.AreEqual(new[] { "c0", "c1", "c2" }, classes.ToArray());
        var model = SequenceClassificationTrainer.CreateModel(pretrained, classes, Quick(80), out LoadReport report);
        CollectionAssert.IsSubsetOf(new[] { "quantizer.codevectors", "project_q.weight" }, report.Ignored.ToArray(), "pre-training heads are reported");
        CollectionAssert.AreEquivalent(new[] { "projector.weight", "projector.bias", "classifier.weight", "classifier.bias" }, report.Missing.ToArray());
        var log = new List<string>();
        var entries = new List<TrainingLogEntry>();
        var trainer = new SequenceClassificationTrainer(model, Quick(80), Path.Combine(TempDirectory, "run")) { Log = log.Add, Logged = entries.Add };
        trainer.Train(data);
        TrainingLogEntry result = trainer.Evaluate(data);
        Assert.AreEqual(1.0, result.Metrics["accuracy"], $"accuracy after 80 updates (loss {result.Metrics["loss"]:F3}); log:\n{string.Join("\n", log)}");
        Assert.AreEqual(8, entries.Count, "one entry per logged update");
        Assert.AreEqual(1.0875, entries[0].Metrics["loss"], 0.01, "the seeded loss at update 10");
        Assert.AreEqual(0.034, entries[^1].Metrics["loss"], 0.02, "the seeded loss at update 80 (0.0337 on a Zen 5, 2 threads)");
        CollectionAssert.IsSubsetOf(new[] { "loss", "accuracy", "lr", "grad_norm" }, entries[0].Metrics.Keys.ToArray());

        var final = Wav2Vec2ForSequenceClassification.FromPretrained(Path.Combine(TempDirectory, "run", "final"));
        float[] probabilities = final.Probabilities([data.Entries[9].Clip!])[0];
        Assert.AreEqual(2, Array.IndexOf(probabilities, probabilities.Max()), "final/ is a complete classifier");
    }

    [TestMethod]
    public void AWavLmBackboneLearnsThePitchesThroughItsGatedPositionBias()
    {
        (AudioDataset data, _) = Setup();
        Wav2Vec2Config config = PreTrainableConfig();
        (config.ModelType, config.NumBuckets, config.MaxBucketDistance) = ("wavlm", 32, 64);
        string backbone = Path.Combine(TempDirectory, "wavlm");
        new Wav2Vec2Model(config, new RandomSource(5)).SavePretrained(backbone);
        IReadOnlyList<string> classes = SequenceClassificationTrainer.CollectLabels(data);
        var model = SequenceClassificationTrainer.CreateModel(backbone, classes, Quick(60), out _);
        float[] Named(Wav2Vec2ForSequenceClassification m, string name) => m.NamedTensors().Single(t => t.Name == name).Tensor.ToArray();
        const string Embedding = "wavlm.encoder.layers.0.attention.rel_attn_embed.weight", Gate = "wavlm.encoder.layers.1.attention.gru_rel_pos_linear.weight";
        float[] embeddingBefore = Named(model, Embedding), gateBefore = Named(model, Gate);
        var trainer = new SequenceClassificationTrainer(model, Quick(60), Path.Combine(TempDirectory, "run"));
        trainer.Train(data);
        Assert.AreEqual(1.0, trainer.Evaluate(data).Metrics["accuracy"]);

        var final = Wav2Vec2ForSequenceClassification.FromPretrained(Path.Combine(TempDirectory, "run", "final"));
        StringAssert.Contains(File.ReadAllText(Path.Combine(TempDirectory, "run", "final", "config.json")), "\"WavLMForSequenceClassification\"");
        CollectionAssert.AreNotEqual(embeddingBefore, Named(final, Embedding), "the shared bucket embedding is trained");
        CollectionAssert.AreNotEqual(gateBefore, Named(final, Gate), "a later layer's gate is trained");
    }

    [TestMethod]
    public void ResumingIsExactlyTheSameAsTrainingStraightThrough()
    {
        (AudioDataset data, string pretrained) = Setup();
        IReadOnlyList<string> classes = SequenceClassificationTrainer.CollectLabels(data);
        // Masks, dropout, layer drop, a frozen phase that ends mid-run and accumulation all on.
        SequenceClassificationOptions quick = Quick(6);
        SequenceClassificationOptions options = quick with
        {
            FreezeBackboneUpdates = 2, UseWeightedLayerSum = true,
            Regularization = quick.Regularization with
            {
                MaskTimeProb = 0.3f, MaskTimeLength = 4, MaskFeatureProb = 0.2f, MaskFeatureLength = 8, LayerDrop = 0.2f, HiddenDropout = 0.1f, FeatureGradMult = 0f,
            },
            Optimization = quick.Optimization with { UpdateFreq = 2 },
            Run = quick.Run with { LogInterval = 1 },
        };
        float[] Straight()
        {
            var model = SequenceClassificationTrainer.CreateModel(pretrained, classes, options, out _);
            new SequenceClassificationTrainer(model, options, Path.Combine(TempDirectory, "straight")) { Log = _ => { } }.Train(data);
            return model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        float[] Resumed()
        {
            string run = Path.Combine(TempDirectory, "resumed");
            using (var stop = new CancellationTokenSource())
            {
                var first = new SequenceClassificationTrainer(SequenceClassificationTrainer.CreateModel(pretrained, classes, options, out _),
                    options with { Run = options.Run with { SaveInterval = 3 } }, run);
                first.Log = line => { if (line.StartsWith("saved", StringComparison.Ordinal)) stop.Cancel(); };
                first.Train(data, null, stop.Token);
                Assert.AreEqual(3, first.Update, "stopped after the first checkpoint");
            }
            var second = SequenceClassificationTrainer.CreateModel(pretrained, classes, options with { Run = options.Run with { Seed = 99 } }, out _);
            var resumed = new SequenceClassificationTrainer(second, options with { Run = options.Run with { SaveInterval = 3 } }, run) { Log = _ => { } };
            Assert.IsTrue(resumed.TryResume());
            resumed.Train(data);
            return second.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        CollectionAssert.AreEqual(Straight(), Resumed(), "2N updates == N, resume, N");
    }

    [TestMethod]
    public void AClassificationCheckpointOverTheSameClassesContinuesAndUnknownLabelsAreNamed()
    {
        (AudioDataset data, string pretrained) = Setup();
        string[] classes = ["c0", "c1", "c2"];
        var model = SequenceClassificationTrainer.CreateModel(pretrained, classes, Quick(1), out _);
        string checkpoint = Path.Combine(TempDirectory, "classifier");
        model.SavePretrained(checkpoint);
        var again = SequenceClassificationTrainer.CreateModel(checkpoint, classes, Quick(1) with { ClassifierProjSize = 8 }, out LoadReport same);
        Assert.AreEqual(0, same.Missing.Count, "the head continues");
        Assert.AreEqual(16, again.Config.ClassifierProjSize, "with its own architecture");
        var other = SequenceClassificationTrainer.CreateModel(checkpoint, ["c0", "c1"], Quick(1), out LoadReport fresh);
        Assert.AreEqual(4, fresh.Missing.Count, "other classes: a new head");
        Assert.AreEqual(2, other.Config.Labels.Count);

        var trainer = new SequenceClassificationTrainer(other, Quick(1), Path.Combine(TempDirectory, "run")) { Log = _ => { } };
        var error = Assert.ThrowsExactly<InvalidDataException>(() => trainer.Train(data));
        StringAssert.Contains(error.Message, "c2_0: label 'c2' is not one of the model's classes (c0, c1)");
        var unlabeled = AudioDataset.FromEntries([data.Entries[0] with { Label = null }]);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => trainer.Train(unlabeled)).Message, "c0_0: no label");
    }
}
