using Wav2Vec2.Autograd;
using Wav2Vec2.Data;
using Wav2Vec2.Decoding;
using Wav2Vec2.IO;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

namespace Wav2Vec2.Tests.Training;

[TestClass]
public sealed class CtcFineTunerTests : TempDirectoryTest
{
    private static readonly string[] Transcripts = ["HELLO THERE", "A GOOD DAY", "IT'S TIME"];

    // Three utterances spelled in tones, LibriSpeech layout; a random "pre-trained" model beside them.
    private (AudioDataset Data, string Pretrained) Setup(Wav2Vec2Config? config = null)
    {
        string corpus = ToneCorpus(Path.Combine(TempDirectory, "data"), Transcripts);
        string pretrained = Path.Combine(TempDirectory, "pretrained");
        new Wav2Vec2ForPreTraining(config ?? FineTunableConfig(), new RandomSource(5)).SavePretrained(pretrained);
        return (AudioDataset.OpenTranscribed(corpus), pretrained);
    }

    // The pre-training test model with a 3-layer conv encoder of 80 samples per frame (8 frames per spelled character).
    private static Wav2Vec2Config FineTunableConfig()
    {
        Wav2Vec2Config config = PreTrainableConfig();
        (config.ConvDim, config.ConvKernel, config.ConvStride) = ([32, 32, 32], [10, 4, 4], [5, 4, 4]);
        return config;
    }

    // A flat learning rate: a randomly initialised model first sits on the all-blank plateau for a few hundred updates.
    private static CtcFineTuningOptions Overfit(int updates)
    {
        var defaults = new CtcFineTuningOptions();
        return defaults with
        {
            Optimization = defaults.Optimization with
            {
                MaxUpdates = updates, LearningRate = 1e-3f, Schedule = new TriStageSchedule { WarmupFraction = 0.05, HoldFraction = 0.9, DecayFraction = 0.05 },
            },
            Regularization = defaults.Regularization with { FeatureGradMult = 1f, MaskTimeProb = 0f, MaskFeatureProb = 0f, LayerDrop = 0f, ActivationDropout = 0f },
            Run = defaults.Run with { Seed = 11, LogInterval = 25, ValidateInterval = 0, SaveInterval = 0 },
            Batching = defaults.Batching with { MaxTokens = 48_000 },
            FreezeFineTuneUpdates = 0,
        };
    }

    [TestMethod]
    [TestCategory("LongTraining")]   // hundreds of updates; .ci/run runs them all
    public void OverfitsThreeUtterancesUntilGreedyDecodingReproducesThem()
    {
        (AudioDataset data, string pretrained) = Setup();
        CtcTokenizer vocabulary = CtcFineTuner.BuildVocabulary(data);
        var model = CtcFineTuner.CreateModel(pretrained, vocabulary, Overfit(450), out LoadReport report);
        CollectionAssert.IsSubsetOf(new[] { "quantizer.codevectors", "project_q.weight" }, report.Ignored.ToArray(), "pre-training heads are reported");
        CollectionAssert.AreEquivalent(new[] { "lm_head.weight", "lm_head.bias" }, report.Missing.ToArray(), "a new CTC head");
        var log = new List<string>();
        var tuner = new CtcFineTuner(model, Overfit(450), Path.Combine(TempDirectory, "run")) { Log = log.Add };
        tuner.Train(data);
        TrainingLogEntry result = tuner.Evaluate(data);
        Assert.AreEqual(0, result.Metrics["cer"], $"CER after 450 updates (loss {result.Metrics["loss"]:F3}); log:\n{string.Join("\n", log)}");

        var recognizer = SpeechRecognizer.FromPretrained(Path.Combine(TempDirectory, "run", "final"));
        Assert.AreEqual(Transcripts[0], recognizer.Transcribe(data.Entries[0].Path), "final/ is a complete recognizer");
        foreach (string file in new[] { "config.json", "model.safetensors", "preprocessor_config.json", "vocab.json", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.IsTrue(File.Exists(Path.Combine(TempDirectory, "run", "final", file)), file);
        StringAssert.Contains(File.ReadAllText(Path.Combine(TempDirectory, "run", "final", "config.json")), "Wav2Vec2ForCTC");
    }

    [TestMethod]
    public void ResumingIsExactlyTheSameAsTrainingStraightThrough()
    {
        (AudioDataset data, string pretrained) = Setup();
        CtcTokenizer vocabulary = CtcFineTuner.BuildVocabulary(data);
        // Masking, dropout, layer drop, a frozen phase that ends mid-run and accumulation all on.
        CtcFineTuningOptions overfit = Overfit(6);
        CtcFineTuningOptions options = overfit with
        {
            FreezeFineTuneUpdates = 2,
            Regularization = overfit.Regularization with
            {
                MaskTimeProb = 0.3f, MaskTimeLength = 4, MaskFeatureProb = 0.2f, MaskFeatureLength = 8, LayerDrop = 0.2f, ActivationDropout = 0.1f,
                HiddenDropout = 0.1f, FeatureGradMult = 0f,
            },
            Optimization = overfit.Optimization with { UpdateFreq = 2 },
            Run = overfit.Run with { LogInterval = 1 },
            Batching = overfit.Batching with { MaxTokens = 32_000 },
        };
        float[] Straight()
        {
            var model = CtcFineTuner.CreateModel(pretrained, vocabulary, options, out _);
            new CtcFineTuner(model, options, Path.Combine(TempDirectory, "straight")) { Log = _ => { } }.Train(data);
            return model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        float[] Resumed()
        {
            string run = Path.Combine(TempDirectory, "resumed");
            using (var stop = new CancellationTokenSource())
            {
                var first = new CtcFineTuner(CtcFineTuner.CreateModel(pretrained, vocabulary, options, out _), options with { Run = options.Run with { SaveInterval = 3 } }, run);
                first.Log = line => { if (line.StartsWith("saved", StringComparison.Ordinal)) stop.Cancel(); };
                first.Train(data, null, stop.Token);
                Assert.AreEqual(3, first.Update, "stopped after the first checkpoint");
            }
            // A differently seeded model: everything must come from the checkpoint.
            var second = CtcFineTuner.CreateModel(pretrained, vocabulary, options with { Run = options.Run with { Seed = 99 } }, out _);
            var resumed = new CtcFineTuner(second, options with { Run = options.Run with { SaveInterval = 3 } }, run) { Log = _ => { } };
            Assert.IsTrue(resumed.TryResume());
            resumed.Train(data);
            return second.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        CollectionAssert.AreEqual(Straight(), Resumed(), "2N updates == N, resume, N");
        Assert.AreEqual(6, File.ReadAllLines(Path.Combine(TempDirectory, "resumed", "train_log.jsonl")).Length, "one line per update, none repeated");
    }

    [TestMethod]
    public void TriStageScheduleFollowsFairseqWithUpdateKAtTheRateAfterKMinusOne()
    {
        var s = new TriStageSchedule { WarmupFraction = 0.1, HoldFraction = 0.4, DecayFraction = 0.5 };   // 1300, 5200, 6500 of 13000
        float At(int updates) => s.At(updates, 5e-5f, 13000);
        Assert.AreEqual(5e-7, At(0), 1e-12, "update 1 trains at init_lr_scale x peak");
        Assert.AreEqual(5e-7 + (5e-5 - 5e-7) / 1300 * 650, At(650), 1e-11);
        Assert.AreEqual(5e-5, At(1300), 1e-11);
        Assert.AreEqual(5e-5, At(6499), 1e-11, "the hold ends at 1300 + 5200");
        Assert.AreNotEqual(5e-5, At(6501), 1e-11, "then the decay starts");
        Assert.AreEqual(5e-5 * Math.Exp(Math.Log(0.05) / 6500 * 3250), At(9750), 1e-11);
        Assert.AreEqual(2.5e-6, At(13000), 1e-11, "final_lr_scale x peak at max_update");
        var options = new CtcFineTuningOptions();
        Assert.AreEqual(At(9750), options.Optimization.LearningRateAt(9751), "the recipe's update k trains at the rate after k - 1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new CtcFineTuner(new Wav2Vec2ForCtc(PreTrainableConfig(), new RandomSource(1))
        {
            Tokenizer = CtcTokenizer.FromTranscripts(["A"]),
        }, options with { Optimization = options.Optimization with { Schedule = s with { DecayFraction = 0.2 } } }, TempDirectory)).Message, "add up to 1");
    }

    [TestMethod]
    public void PresetsCarryFairseqsBaseRecipes()
    {
        CtcFineTuningOptions m10 = CtcFineTuningOptions.Presets["10m"], h10 = CtcFineTuningOptions.Presets["10h"], h100 = CtcFineTuningOptions.Presets["100h"];
        CollectionAssert.AreEqual(new[] { "10m", "1h", "10h", "100h", "tiny" }, CtcFineTuningOptions.Presets.Keys.ToArray());
        Assert.AreEqual(new CtcFineTuningOptions(), m10, "the defaults are base_10m");
        Assert.AreEqual((13000, 5e-5f, 10000, 0.65f, 0.25f, 64, 0.1f), (m10.Optimization.MaxUpdates, m10.Optimization.LearningRate, m10.FreezeFineTuneUpdates,
            m10.Regularization.MaskTimeProb, m10.Regularization.MaskFeatureProb, m10.Regularization.MaskFeatureLength, m10.Regularization.LayerDrop));
        Assert.AreEqual((20000, 0.5f, 0.05f), (h10.Optimization.MaxUpdates, h10.Regularization.MaskFeatureProb, h10.Regularization.LayerDrop));
        Assert.AreEqual((80000, 3e-5f, 0), (h100.Optimization.MaxUpdates, h100.Optimization.LearningRate, h100.FreezeFineTuneUpdates));
        AdamWOptions adam = m10.Optimization.Optimizer;
        Assert.AreEqual((0.9f, 0.98f, 1e-8f, 0f), (adam.Beta1, adam.Beta2, adam.Epsilon, adam.WeightDecay));
        RegularizationOptions r = m10.Regularization;
        Assert.AreEqual((0f, 0.1f, 0f, 0f, 3_200_000), (r.FeatureGradMult, r.ActivationDropout, r.HiddenDropout, r.FinalDropout, m10.Batching.MaxTokens));
        Assert.AreEqual((10000, 50, 1), (m10.Run.ValidateAfterUpdates, m10.Run.ValidateInterval, m10.Run.KeepLastCheckpoints));

        // The overrides the command line and ML.NET map: a shorter run starts validating at the same fraction of it.
        CtcFineTuningOptions shorter = new TrainingOverrides { MaxUpdates = 1300, Seed = 4, MaskTimeProb = 0.1f }.ApplyTo(m10);
        Assert.AreEqual((1300, 1000, 4UL, 0.1f), (shorter.Optimization.MaxUpdates, shorter.Run.ValidateAfterUpdates, shorter.Run.Seed, shorter.Regularization.MaskTimeProb));
        Assert.AreEqual(m10 with { Optimization = shorter.Optimization, Run = shorter.Run, Regularization = shorter.Regularization }, shorter, "nothing else changes");
    }

    [TestMethod]
    public void UtterancesWhoseLabelsCannotFitAreSkippedAndCounted()
    {
        // 0.6 s at 40 samples per frame is 239 frames: 300 letters cannot fit.
        string corpus = TranscribedCorpus(Path.Combine(TempDirectory, "data"), ["FITS", new string('A', 150) + " " + new string('B', 149)],
            FixturePath("reference_audio.wav"));
        AudioDataset data = AudioDataset.OpenTranscribed(corpus);
        string pretrained = Path.Combine(TempDirectory, "pretrained");
        new Wav2Vec2Model(PreTrainableConfig(), new RandomSource(1)).SavePretrained(pretrained);
        var log = new List<string>();
        var model = CtcFineTuner.CreateModel(pretrained, CtcFineTuner.BuildVocabulary(data), Overfit(2), out _);
        var tuner = new CtcFineTuner(model, Overfit(2), Path.Combine(TempDirectory, "run")) { Log = log.Add };
        tuner.Train(data);
        Assert.AreEqual(1, tuner.SkippedUtterances);
        Assert.IsTrue(log.Any(l => l.Contains("skipped 1 training utterance")), string.Join("\n", log));
    }

    [TestMethod]
    public void TranscriptsWithCharactersOutsideTheVocabularyNameTheFileAndCharacters()
    {
        (AudioDataset data, string pretrained) = Setup();
        var vocabulary = CtcTokenizer.FromTranscripts(["HELO TER AGD Y"]);
        var model = CtcFineTuner.CreateModel(pretrained, vocabulary, Overfit(2), out _);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => new CtcFineTuner(model, Overfit(2), Path.Combine(TempDirectory, "run")) { Log = _ => { } }.Train(data));
        StringAssert.Contains(error.Message, "1-2-0002.wav: transcript has characters outside the vocabulary: 'I' ''' 'S' 'M'");
    }

    [TestMethod]
    public void ValidationTranscriptsWithCharactersOutsideTheVocabularyAreScoredAsUnknownWithAWarning()
    {
        (AudioDataset data, string pretrained) = Setup();
        AudioDataset valid = AudioDataset.OpenTranscribed(ToneCorpus(Path.Combine(TempDirectory, "valid"), ["HAZY DAY"]));
        var vocabulary = CtcFineTuner.BuildVocabulary(data);   // no Z
        CtcFineTuningOptions options = Overfit(2) with { Run = Overfit(2).Run with { ValidateInterval = 2, ValidateAfterUpdates = 0 } };
        var model = CtcFineTuner.CreateModel(pretrained, vocabulary, options, out _);
        var log = new List<string>();
        var tuner = new CtcFineTuner(model, options, Path.Combine(TempDirectory, "run")) { Log = log.Add };
        tuner.Train(data, valid);
        Assert.IsTrue(log.Any(l => l.Contains("validation transcripts have characters outside the vocabulary ('Z')")), string.Join("\n", log));
        TrainingLogEntry result = tuner.Evaluate(valid);
        Assert.AreEqual(8, result.Metrics["reference_characters"], "the reference keeps its Z");
        Assert.IsTrue(double.IsFinite(result.Metrics["loss"]));
        Assert.IsTrue(Directory.Exists(Path.Combine(TempDirectory, "run", "best")), "validation ran");
    }

    [TestMethod]
    [DataRow(BestModelMetric.WordErrorRate)]
    [DataRow(BestModelMetric.CharacterErrorRate)]
    public void ValidationScoresBestModelsByTheChosenMetric(BestModelMetric metric)
    {
        (AudioDataset data, string pretrained) = Setup();
        CtcFineTuningOptions options = Overfit(1) with { BestModelMetric = metric };
        var model = CtcFineTuner.CreateModel(pretrained, CtcFineTuner.BuildVocabulary(data), options, out _);
        var tuner = new CtcFineTuner(model, options, Path.Combine(TempDirectory, "run")) { Log = _ => { } };
        TrainingLogEntry result = tuner.Evaluate(data);   // the random head writes random letters
        Assert.AreNotEqual(result.Metrics["wer"], result.Metrics["cer"], "the two rates must differ for this test to mean anything");
        double? score = ((ITrainingTask<CtcBatchMetrics>)tuner).Score(result.Metrics);
        Assert.AreEqual(metric == BestModelMetric.CharacterErrorRate ? result.Metrics["cer"] : result.Metrics["wer"], score);
    }

    [TestMethod]
    public void InitDirectoriesThatAreNotWav2Vec2ModelsAreRejected()
    {
        string bert = Directory.CreateDirectory(Path.Combine(TempDirectory, "bert")).FullName;
        File.WriteAllText(Path.Combine(bert, "config.json"), """{"model_type": "bert", "hidden_size": 64}""");
        var vocabulary = CtcTokenizer.FromTranscripts(["A"]);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => CtcFineTuner.CreateModel(bert, vocabulary, Overfit(1), out _)).Message,
            "model_type is \"bert\", not a family this library reads (wav2vec2, hubert, data2vec-audio, wavlm)");
        string partial = Path.Combine(TempDirectory, "partial");
        var model = new Wav2Vec2Model(PreTrainableConfig(), new RandomSource(1));
        model.SavePretrained(partial);
        SafeTensorsWriter.Write(Path.Combine(partial, "model.safetensors"), model.NamedTensors().Take(3));
        // The config's sizes are checked against the weights before the model is built.
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => CtcFineTuner.CreateModel(partial, vocabulary, Overfit(1), out _)).Message,
            "num_hidden_layers is 2 but the checkpoint stores 0 layers");
    }

    [TestMethod]
    public void TheHeadLossIsTheCtcLossOfTheLogitsWithThePadTokenAsBlank()
    {
        var config = PreTrainableConfig();
        config.VocabSize = 6;
        var model = new Wav2Vec2ForCtc(config, new RandomSource(2));
        model.Train(false);
        Tensor input = RandomTensor(4, 2, 8000);
        int[][] labels = [[1, 2, 2, 3], [5]];
        CtcOutput output = model.Forward(input, labels, new Wav2Vec2ForwardOptions { SampleLengths = [8000, 6000], AllowPaddedGroupNorm = true });
        CollectionAssert.AreEqual(new[] { 199, 149 }, output.FrameLengths);
        Tensor expected = Ops.CtcLoss(Ops.LogSoftmax(output.Logits), [1, 2, 2, 3, 5], [4, 1], [199, 149], blank: 0);
        Assert.AreEqual(expected.ToScalar(), output.Loss!.ToScalar(), 1e-4);
        Assert.IsNull(model.Forward(input, options: new Wav2Vec2ForwardOptions { SampleLengths = [8000, 6000], AllowPaddedGroupNorm = true }).Loss,
            "no labels, no loss");
    }

    [TestMethod]
    public void WholeCtcLossGradientOfAPaddedMaskedBatchMatchesFiniteDifferences()
    {
        var config = PreTrainableConfig();
        (config.VocabSize, config.MaskTimeProb) = (6, 0.5f);
        var model = new Wav2Vec2ForCtc(config, new RandomSource(2));
        model.Train(false);
        Tensor input = RandomTensor(4, 2, 8000);
        var options = new Wav2Vec2ForwardOptions
        {
            SampleLengths = [8000, 6000], AllowPaddedGroupNorm = true, MaskTimeIndices = new bool[2 * 199],
            MaskFeatureIndices = Enumerable.Range(0, 2 * 64).Select(i => i % 7 == 3).ToArray(),
        };
        for (int t = 20; t < 40; t++)
            options.MaskTimeIndices[t] = options.MaskTimeIndices[199 + t] = true;
        var named = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        string[] names = ["wav2vec2.feature_extractor.conv_layers.0.conv.weight", "wav2vec2.feature_extractor.conv_layers.0.layer_norm.weight",
            "wav2vec2.feature_projection.projection.weight", "wav2vec2.masked_spec_embed", "wav2vec2.encoder.pos_conv_embed.conv.weight_v",
            "wav2vec2.encoder.layers.1.attention.k_proj.weight", "wav2vec2.encoder.layers.0.feed_forward.output_dense.bias", "lm_head.weight"];
        GradientChecker.Check("CTC loss", _ => model.Forward(input, [[1, 2, 2, 3], [5]], options).Loss!,
            names.Select(n => (Tensor)named[n]).ToArray(), eps: 2e-3f, relativeTolerance: 5e-2f, absoluteTolerance: 5e-2f, samplesPerInput: 6);
    }
}
