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
    private static PreTrainingOptions Options(int updates) => new()
    {
        MaxUpdates = updates, LearningRate = 2e-3f, WarmupUpdates = updates / 10, Seed = 7, LogInterval = 1, Normalize = true,
        NumNegatives = 20, Dropout = 0, FeatProjDropout = 0, FeatQuantizerDropout = 0, LayerDrop = 0,
        Batching = new BatchingOptions { MinSampleSize = 8000, MaxSampleSize = 16000, MaxTokens = 16000 },
    };

    [TestMethod]
    public void OverfitsAFewSecondsOfAudioToHighAccuracy()
    {
        AudioDataset corpus = Corpus();
        // Anneal the Gumbel temperature within the run (fairseq's schedule spans 400k updates); more unmasked context
        // per masked frame and fewer distractors make a memorisable task.
        PreTrainingOptions options = Options(600) with
        {
            MaxTemperature = 1.0, TemperatureDecay = 0.99, LearningRate = 3e-3f, NumNegatives = 10, MaskTimeProb = 0.3f,
            Batching = new BatchingOptions { MinSampleSize = 8000, MaxSampleSize = 16000, MaxTokens = 48000 },
        };
        var model = new Wav2Vec2ForPreTraining(options.Configure(PreTrainableConfig()), new RandomSource(3));
        var log = new List<string>();
        var trainer = new PreTrainer(model, options, Path.Combine(TempDirectory, "run")) { Log = log.Add };
        trainer.Train(corpus);
        PreTrainingMetrics final = trainer.Evaluate(corpus);
        Assert.IsTrue(final.Accuracy > 0.85, $"accuracy {final.Accuracy:F3} after 600 updates (0.895 measured with 2 threads); last log: {log[^3]}");
        Assert.IsTrue(File.Exists(Path.Combine(TempDirectory, "run", "final", "model.safetensors")));
    }

    [TestMethod]
    public void ResumingIsExactlyTheSameAsTrainingStraightThrough()
    {
        AudioDataset corpus = Corpus();
        // Dropout and layer drop on, to exercise the model's random stream too.
        Wav2Vec2Config config = (Options(6) with { Dropout = 0.1f, LayerDrop = 0.1f }).Configure(PreTrainableConfig());
        float[] Straight()
        {
            var model = new Wav2Vec2ForPreTraining(config, new RandomSource(3));
            new PreTrainer(model, Options(6) with { UpdateFreq = 2, Dropout = 0.1f, LayerDrop = 0.1f }, Path.Combine(TempDirectory, "straight")) { Log = _ => { } }.Train(corpus);
            return model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        float[] Resumed()
        {
            string run = Path.Combine(TempDirectory, "resumed");
            var first = new Wav2Vec2ForPreTraining(config, new RandomSource(3));
            using (var stop = new CancellationTokenSource())
            {
                var trainer = new PreTrainer(first, Options(6) with { UpdateFreq = 2, SaveInterval = 3, Dropout = 0.1f, LayerDrop = 0.1f }, run) { Log = _ => { } };
                trainer.Log = line => { if (line.StartsWith("saved", StringComparison.Ordinal)) stop.Cancel(); };
                trainer.Train(corpus, null, stop.Token);
                Assert.AreEqual(3, trainer.State.Update, "stopped after the first checkpoint");
            }
            var second = new Wav2Vec2ForPreTraining(config, new RandomSource(99));   // different init: everything comes from the checkpoint
            var resumed = new PreTrainer(second, Options(6) with { UpdateFreq = 2, SaveInterval = 3, Dropout = 0.1f, LayerDrop = 0.1f }, run) { Log = _ => { } };
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
    }

    [TestMethod]
    public void LearningRateWarmsUpThenDecaysWithFairseqsStepIndexingAndTemperatureFollowsFairseq()
    {
        var options = new PreTrainingOptions { MaxUpdates = 100, LearningRate = 1e-3f, WarmupUpdates = 10 };
        Assert.AreEqual(0f, options.LearningRateAt(1), "update 1 runs at the rate set before any update: 0");
        Assert.AreEqual(1e-4f, options.LearningRateAt(2), 1e-9f);
        Assert.AreEqual(1e-3f, options.LearningRateAt(11), 1e-9f);
        Assert.AreEqual(5e-4f, options.LearningRateAt(56), 1e-9f);
        Assert.AreEqual(1e-3f / 90, options.LearningRateAt(100), 1e-9f);
        Assert.AreEqual(2f, options.TemperatureAt(0));
        Assert.AreEqual(2 * Math.Pow(0.999995, 1000), options.TemperatureAt(1000), 1e-6);
        Assert.AreEqual(0.5f, options.TemperatureAt(10_000_000));
    }

    [TestMethod]
    public void WarmupIsANumberOfUpdatesExceptForTheTinyRecipeWhichScalesToTheRun()
    {
        PreTrainingOptions base1k = PreTrainingOptions.Preset("base") with { MaxUpdates = 1000 };
        Assert.AreEqual((32_000, 0.999995), (base1k.WarmupUpdates, base1k.TemperatureDecay), "fairseq's numbers do not follow --max-updates");
        Assert.AreEqual(32_000, PreTrainingOptions.Preset("large").WarmupUpdates);
        PreTrainingOptions tiny = PreTrainingOptions.Tiny(1000);
        Assert.AreEqual(80, tiny.WarmupUpdates);
        Assert.AreEqual(0.5, tiny.TemperatureAt(600), 1e-6, "the temperature reaches its floor at 60% of the run");
        Assert.IsTrue(tiny.TemperatureAt(300) > 0.65);
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
