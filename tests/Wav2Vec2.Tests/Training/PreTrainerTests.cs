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

    private static PreTrainingOptions Options(int updates) => new()
    {
        MaxUpdates = updates, LearningRate = 2e-3f, WarmupFraction = 0.1, Seed = 7, LogInterval = 1,
        Batching = new BatchingOptions { MinSampleSize = 8000, MaxSampleSize = 16000, MaxTokens = 16000 },
    };

    [TestMethod]
    public void OverfitsAFewSecondsOfAudioToHighAccuracy()
    {
        AudioDataset corpus = Corpus();
        Wav2Vec2Config config = PreTrainableConfig();
        config.NumNegatives = 10;
        config.MaskTimeProb = 0.3f;   // more unmasked context per masked frame: a memorisable task
        var model = new Wav2Vec2ForPreTraining(config, new RandomSource(3));
        var log = new List<string>();
        // Anneal the Gumbel temperature within the run (fairseq's schedule spans 400k updates).
        PreTrainingOptions options = Options(600) with
        {
            MaxTemperature = 1.0, TemperatureDecay = 0.99, LearningRate = 3e-3f,
            Batching = new BatchingOptions { MinSampleSize = 8000, MaxSampleSize = 16000, MaxTokens = 48000 },
        };
        var trainer = new PreTrainer(model, options, Path.Combine(TempDirectory, "run")) { Log = log.Add };
        trainer.Train(corpus);
        PreTrainingMetrics final = trainer.Evaluate(corpus);
        Assert.IsTrue(final.Accuracy > 0.9, $"accuracy {final.Accuracy:F3} after 600 updates; last log: {log[^3]}");
        Assert.IsTrue(File.Exists(Path.Combine(TempDirectory, "run", "final", "model.safetensors")));
    }

    [TestMethod]
    public void ResumingIsExactlyTheSameAsTrainingStraightThrough()
    {
        AudioDataset corpus = Corpus();
        Wav2Vec2Config config = PreTrainableConfig();
        config.HiddenDropout = 0.1f;   // exercise the dropout stream too
        config.LayerDrop = 0.1f;
        float[] Straight()
        {
            var model = new Wav2Vec2ForPreTraining(config, new RandomSource(3));
            new PreTrainer(model, Options(6) with { UpdateFreq = 2 }, Path.Combine(TempDirectory, "straight")) { Log = _ => { } }.Train(corpus);
            return model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        float[] Resumed()
        {
            string run = Path.Combine(TempDirectory, "resumed");
            var first = new Wav2Vec2ForPreTraining(config, new RandomSource(3));
            using (var stop = new CancellationTokenSource())
            {
                var trainer = new PreTrainer(first, Options(6) with { UpdateFreq = 2, SaveInterval = 3 }, run) { Log = _ => { } };
                trainer.Log = line => { if (line.StartsWith("saved", StringComparison.Ordinal)) stop.Cancel(); };
                trainer.Train(corpus, null, stop.Token);
                Assert.AreEqual(3, trainer.State.Update, "stopped after the first checkpoint");
            }
            var second = new Wav2Vec2ForPreTraining(config, new RandomSource(99));   // different init: everything comes from the checkpoint
            var resumed = new PreTrainer(second, Options(6) with { UpdateFreq = 2, SaveInterval = 3 }, run) { Log = _ => { } };
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
    public void LearningRateWarmsUpThenDecaysAndTemperatureFollowsFairseq()
    {
        var options = new PreTrainingOptions { MaxUpdates = 100, LearningRate = 1e-3f, WarmupFraction = 0.1 };
        Assert.AreEqual(1e-4f, options.LearningRateAt(1), 1e-9f);
        Assert.AreEqual(1e-3f, options.LearningRateAt(10), 1e-9f);
        Assert.AreEqual(5e-4f, options.LearningRateAt(55), 1e-9f);
        Assert.AreEqual(0f, options.LearningRateAt(100), 1e-9f);
        Assert.AreEqual(2f, options.TemperatureAt(0));
        Assert.AreEqual(2 * Math.Pow(0.999995, 1000), options.TemperatureAt(1000), 1e-6);
        Assert.AreEqual(0.5f, options.TemperatureAt(10_000_000));
    }
}
