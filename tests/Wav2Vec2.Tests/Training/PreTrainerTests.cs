using Wav2Vec2.Data;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

namespace Wav2Vec2.Tests.Training;

[TestClass]
public sealed class PreTrainerTests : TempDirectoryTest
{
    // Three seconds of speech-like audio from the fixtures, as a small LibriSpeech-style tree.
    private AudioDataset Corpus()
    {
        string data = Directory.CreateDirectory(Path.Combine(TempDirectory, "data", "1", "2")).FullName;
        File.Copy(FixturePath("flac", "speech16.flac"), Path.Combine(data, "1-2-0000.flac"));
        File.Copy(FixturePath("flac", "stereo24.flac"), Path.Combine(data, "1-2-0001.flac"));
        File.Copy(FixturePath("flac", "speech8.wav"), Path.Combine(data, "1-2-0002.wav"));
        return AudioDataset.Open(Path.Combine(TempDirectory, "data"));
    }

    // The recipe of the test model: no dropout, 20 distractors, normalised input.
    private static PreTrainingOptions Options(int updates) =>
        new TrainingOverrides { MaxUpdates = updates, LearningRate = 2e-3f, WarmupUpdates = updates / 10, Seed = 7, LogInterval = 1 }.ApplyTo(new PreTrainingOptions
        {
            Normalize = true, NumNegatives = 20, Regularization = Dropouts(new PreTrainingOptions().Regularization, 0f, 0f),
            Batching = new BatchingOptions { MinSampleSize = 8000, MaxSampleSize = 16000, MaxTokens = 16000 },
        });

    // fairseq's dropout (residual and attention) and layer drop; the input and feature dropouts off.
    private static RegularizationOptions Dropouts(RegularizationOptions r, float dropout, float layerDrop) =>
        r with { HiddenDropout = dropout, AttentionDropout = dropout, FeatProjDropout = 0, FeatQuantizerDropout = 0, LayerDrop = layerDrop };

    private static PreTrainingOptions WithDropout(PreTrainingOptions o, int updateFreq, int saveInterval = 0) => o with
    {
        Regularization = Dropouts(o.Regularization, 0.1f, 0.1f),
        Optimization = o.Optimization with { UpdateFreq = updateFreq },
        Run = o.Run with { SaveInterval = saveInterval },
    };

    [TestMethod]
    [TestCategory("LongTraining")]   // hundreds of updates; .ci/run runs them all
    public void OverfitsAFewSecondsOfAudioToHighAccuracy()
    {
        AudioDataset corpus = Corpus();
        // Anneal the Gumbel temperature within the run (fairseq's schedule spans 400k updates); more unmasked context
        // per masked frame and fewer distractors make a memorisable task.
        PreTrainingOptions defaults = Options(600);
        PreTrainingOptions options = defaults with
        {
            MaxTemperature = 1.0, TemperatureDecay = 0.99, NumNegatives = 10,
            Optimization = defaults.Optimization with { LearningRate = 3e-3f },
            Regularization = defaults.Regularization with { MaskTimeProb = 0.3f },
            Batching = new BatchingOptions { MinSampleSize = 8000, MaxSampleSize = 16000, MaxTokens = 48000 },
        };
        var model = new Wav2Vec2ForPreTraining(options.Configure(PreTrainableConfig()), new RandomSource(3));
        var log = new List<string>();
        var trainer = new PreTrainer(model, options, Path.Combine(TempDirectory, "run")) { Log = log.Add };
        trainer.Train(corpus);
        TrainingLogEntry final = trainer.Evaluate(corpus);
        // The seeded figure: 0.926 on a Zen 5 and 0.895 on a Zen 4 (2 threads; the AVX-512 and AVX2 paths and the
        // runtime's reductions round differently, so the last digits move between machines, not the figure).
        Assert.AreEqual(0.91, final.Metrics["accuracy"], 0.04, $"accuracy after 600 updates; last log: {log[^3]}");
        Assert.IsTrue(File.Exists(Path.Combine(TempDirectory, "run", "final", "model.safetensors")));
    }

    [TestMethod]
    public void ResumingIsExactlyTheSameAsTrainingStraightThrough()
    {
        AudioDataset corpus = Corpus();
        // Dropout and layer drop on, to exercise the model's random stream too.
        Wav2Vec2Config config = WithDropout(Options(6), 2).Configure(PreTrainableConfig());
        float[] Straight()
        {
            var model = new Wav2Vec2ForPreTraining(config, new RandomSource(3));
            new PreTrainer(model, WithDropout(Options(6), 2), Path.Combine(TempDirectory, "straight")) { Log = _ => { } }.Train(corpus);
            return model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        float[] Resumed()
        {
            string run = Path.Combine(TempDirectory, "resumed");
            var first = new Wav2Vec2ForPreTraining(config, new RandomSource(3));
            using (var stop = new CancellationTokenSource())
            {
                var trainer = new PreTrainer(first, WithDropout(Options(6), 2, saveInterval: 3), run) { Log = _ => { } };
                trainer.Log = line => { if (line.StartsWith("saved", StringComparison.Ordinal)) stop.Cancel(); };
                trainer.Train(corpus, null, stop.Token);
                Assert.AreEqual(3, trainer.Update, "stopped after the first checkpoint");
            }
            var second = new Wav2Vec2ForPreTraining(config, new RandomSource(99));   // different init: everything comes from the checkpoint
            var resumed = new PreTrainer(second, WithDropout(Options(6), 2, saveInterval: 3), run) { Log = _ => { } };
            Assert.IsTrue(resumed.TryResume());
            resumed.Train(corpus);
            return second.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        CollectionAssert.AreEqual(Straight(), Resumed());
        string[] lines = File.ReadAllLines(Path.Combine(TempDirectory, "resumed", "train_log.jsonl"));
        Assert.AreEqual(6, lines.Length, "one line per update, none repeated");
        StringAssert.Contains(lines[^1], "\"update\":6");
        foreach (string name in new[] { "loss", "contrastive_loss", "diversity_loss", "feature_penalty", "accuracy", "code_perplexity",
            "prob_perplexity", "temperature", "lr", "grad_norm", "samples_per_second" })
            StringAssert.Contains(lines[0], $"\"{name}\":");

        // A run killed after update 6 whose last checkpoint is 3 (checkpoint-6 never finished): updates 4-6 run again and
        // are logged once.
        string killed = Path.Combine(TempDirectory, "resumed");
        Directory.Delete(Path.Combine(killed, "checkpoint-6"), recursive: true);
        var again = new PreTrainer(new Wav2Vec2ForPreTraining(config, new RandomSource(5)), WithDropout(Options(6), 2, saveInterval: 3), killed) { Log = _ => { } };
        Assert.IsTrue(again.TryResume());
        again.Train(corpus);
        CollectionAssert.AreEqual(Enumerable.Range(1, 6).ToArray(), File.ReadAllLines(Path.Combine(killed, "train_log.jsonl"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("update").GetInt32()).ToArray());
    }

    [TestMethod]
    public void LearningRateWarmsUpThenDecaysWithFairseqsStepIndexingAndTemperatureFollowsFairseq()
    {
        var options = new TrainingOverrides { MaxUpdates = 100, LearningRate = 1e-3f, WarmupUpdates = 10 }.ApplyTo(new PreTrainingOptions());
        OptimizationOptions o = options.Optimization;
        Assert.AreEqual(0f, o.LearningRateAt(1), "update 1 runs at the rate set before any update: 0");
        Assert.AreEqual(1e-4f, o.LearningRateAt(2), 1e-9f);
        Assert.AreEqual(1e-3f, o.LearningRateAt(11), 1e-9f);
        Assert.AreEqual(5e-4f, o.LearningRateAt(56), 1e-9f);
        Assert.AreEqual(1e-3f / 90, o.LearningRateAt(100), 1e-9f);
        Assert.AreEqual(2f, options.TemperatureAt(0));
        Assert.AreEqual(2 * Math.Pow(0.999995, 1000), options.TemperatureAt(1000), 1e-6);
        Assert.AreEqual(0.5f, options.TemperatureAt(10_000_000));
    }

    [TestMethod]
    public void ARisingDiversityWeightFollowsItsWindowInTheLossAndBadWindowsAreRejected()
    {
        // 6 updates, the weight rising from 0.1 to 5.1 between 1/6 and 4/6 of the run (after 1 and 4 completed updates).
        PreTrainingOptions options = Options(6) with { FinalDiversityLossWeight = 5.1f, DiversityRiseStart = 1 / 6.0, DiversityRiseEnd = 4 / 6.0 };
        double[] expected = [0.1, 0.1, 0.1 + 5.0 / 3, 0.1 + 10.0 / 3, 5.1, 5.1];   // update u runs at the weight after u - 1
        for (int u = 1; u <= 6; u++)
            Assert.AreEqual(expected[u - 1], options.DiversityWeightAt(u - 1), 1e-6);
        Assert.AreEqual(0.1f, Options(6).DiversityWeightAt(5), "without a final weight it stays");

        var model = new Wav2Vec2ForPreTraining(options.Configure(PreTrainableConfig()), new RandomSource(3));
        new PreTrainer(model, options, Path.Combine(TempDirectory, "rise")) { Log = _ => { } }.Train(Corpus());
        // The logged figures per masked frame: loss - contrastive = (weight x diversity + 10 x penalty) / ln 2.
        foreach (string line in File.ReadAllLines(Path.Combine(TempDirectory, "rise", "train_log.jsonl")))
        {
            var e = System.Text.Json.JsonDocument.Parse(line).RootElement;
            double Field(string name) => e.GetProperty(name).GetDouble();
            double weight = ((Field("loss") - Field("contrastive_loss")) * Math.Log(2) - 10 * Field("feature_penalty")) / Field("diversity_loss");
            Assert.AreEqual(expected[e.GetProperty("update").GetInt32() - 1], weight, 0.01, line);
        }
        StringAssert.Contains(options.ToRecipeJson(), "\"final_diversity_loss_weight\": 5.1");

        Assert.AreEqual(0.1f, model.Config.DiversityLossWeight, "the config keeps the recipe's starting weight");
        new PreTrainer(model, options, Path.Combine(TempDirectory, "again"));   // so the same model and recipe train again
        var window = Assert.ThrowsExactly<ArgumentException>(() => new PreTrainer(model, options with { DiversityRiseEnd = 0.1 }, Path.Combine(TempDirectory, "bad")));
        StringAssert.Contains(window.Message, "diversity weight must rise");
        Assert.ThrowsExactly<ArgumentException>(() => new PreTrainer(model, options with { FinalDiversityLossWeight = -1 }, Path.Combine(TempDirectory, "bad")));
    }

    [TestMethod]
    public void WarmupIsANumberOfUpdatesExceptForTheTinyRecipeWhichScalesToTheRun()
    {
        CollectionAssert.AreEqual(new[] { "base", "large", "tiny" }, PreTrainingOptions.Presets.Keys.ToArray());
        Assert.AreEqual(new PreTrainingOptions(), PreTrainingOptions.Presets["base"], "the defaults are fairseq's BASE recipe");
        var shorter = new TrainingOverrides { MaxUpdates = 1000 };
        PreTrainingOptions base1k = shorter.ApplyTo(PreTrainingOptions.Presets["base"]);
        Assert.AreEqual(new PolynomialDecaySchedule { WarmupUpdates = 32_000 }, base1k.Optimization.Schedule, "fairseq's numbers do not follow --max-updates");
        Assert.AreEqual(2 * Math.Pow(0.999995, 600), base1k.TemperatureAt(600), 1e-6);
        Assert.AreEqual(new PolynomialDecaySchedule { WarmupUpdates = 32_000 }, PreTrainingOptions.Presets["large"].Optimization.Schedule);
        PreTrainingOptions tiny = shorter.ApplyTo(PreTrainingOptions.Presets["tiny"]);
        Assert.AreEqual(0f, tiny.Optimization.LearningRateAt(1));
        Assert.AreEqual(1e-3f, tiny.Optimization.LearningRateAt(81), 1e-9f, "the peak after 80 warm-up updates (8% of the run)");
        Assert.AreEqual(1e-3f * 79 / 80, tiny.Optimization.LearningRateAt(80), 1e-9f);
        Assert.AreEqual(0.5, tiny.TemperatureAt(600), 1e-6, "the temperature reaches its floor at 60% of the run");
        Assert.AreEqual(Math.Pow(0.5, 300 / 600.0), tiny.TemperatureAt(300), 1e-6);
        Assert.AreEqual(Math.Pow(0.5, 300 / 1200.0), new TrainingOverrides { MaxUpdates = 2000 }.ApplyTo(PreTrainingOptions.Presets["tiny"]).TemperatureAt(300), 1e-6,
            "a longer run decays more slowly");
    }

    [TestMethod]
    public void ModelsWhoseConfigCarriesOtherTrainingSettingsAreRejected()
    {
        // A Hub config.json carries fine-tuning values (mask_time_prob 0.05): they must not become pre-training settings.
        Wav2Vec2Config hub = PreTrainableConfig();
        hub.MaskTimeProb = 0.05f;
        var error = Assert.ThrowsExactly<ArgumentException>(() => new PreTrainer(new Wav2Vec2ForPreTraining(hub, new RandomSource(1)), Options(1), TempDirectory));
        StringAssert.Contains(error.Message, "mask_time_prob is 0.05 in the model's config but 0.65 in the pre-training options");
        Wav2Vec2Config configured = Options(1).Configure(hub);
        Assert.AreEqual((0.65f, 0f), (configured.MaskTimeProb, configured.HiddenDropout));
    }
}
