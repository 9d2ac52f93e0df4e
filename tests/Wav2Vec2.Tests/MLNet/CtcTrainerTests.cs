using System.Text.RegularExpressions;
using Microsoft.ML;
using Microsoft.ML.Data;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.MLNet;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

namespace Wav2Vec2.Tests.MLNet;

/// <summary>A transcribed clip as ML.NET reads it from a path&lt;TAB&gt;transcript file.</summary>
public sealed class TranscribedRow
{
    [LoadColumn(0)] public string Path { get; set; } = "";
    [LoadColumn(1)] public string Transcript { get; set; } = "";
}

[TestClass]
[DoNotParallelize]   // the trainers set the process-wide thread count (ThreadCount = 2) for determinism
public sealed class CtcTrainerTests : TempDirectoryTest
{
    private static readonly string[] Transcripts = ["HELLO THERE", "A GOOD DAY", "IT'S TIME"];

    // Three utterances spelled in tones listed in a path<TAB>transcript file (which w2v2 finetune reads too), and a
    // random "pre-trained" model of 80 samples per frame beside them.
    private (MLContext Ml, IDataView Data, string Tsv, string Pretrained) Setup()
    {
        string folder = Directory.CreateDirectory(Path.Combine(TempDirectory, "data")).FullName;
        for (int i = 0; i < Transcripts.Length; i++)
            File.WriteAllBytes(Path.Combine(folder, $"u{i}.wav"), WavWriter.Encode(SpelledInTones(Transcripts[i])));
        string tsv = Path.Combine(folder, "train.tsv");
        File.WriteAllLines(tsv, Transcripts.Select((t, i) => $"u{i}.wav\t{t}"));
        Wav2Vec2Config config = PreTrainableConfig();
        (config.ConvDim, config.ConvKernel, config.ConvStride) = ([32, 32, 32], [10, 4, 4], [5, 4, 4]);
        string pretrained = Path.Combine(TempDirectory, "pretrained");
        new Wav2Vec2ForPreTraining(config, new RandomSource(5)).SavePretrained(pretrained);
        var ml = new MLContext(seed: 0);
        return (ml, ml.Data.LoadFromTextFile<TranscribedRow>(tsv), tsv, pretrained);
    }

    // The tiny preset with a flat, higher learning rate, no frozen phase and small batches: what the CLI flags below say.
    private static Wav2Vec2CtcTrainerOptions Options(string pretrained, string tsv, int updates, string? run = null) => new()
    {
        ModelDirectory = pretrained, AudioColumnName = "Path", AudioFolder = Path.GetDirectoryName(tsv), OutputDirectory = run,
        Preset = "tiny", MaxUpdates = updates, LearningRate = 2e-3f, FreezeFineTuneUpdates = 0, Seed = 11, MaxTokens = 48_000, ThreadCount = 2,
    };

    [TestMethod]
    public void AdapterLanguageTrainsOnlyTheAdaptersOfAnMmsModel()
    {
        var (ml, data, tsv, _) = Setup();
        string mms = FixturePath("models", "mms");
        var options = Options(mms, tsv, 2);
        options.AdapterLanguage = "xyz";
        Wav2Vec2TranscribeTransformer asr = ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(options).Fit(data);
        Assert.AreEqual("xyz", asr.Model.TargetLanguage);
        static bool Adapter(string name) => name.Contains(".adapter_layer.", StringComparison.Ordinal);
        var before = Wav2Vec2Model.FromPretrained(mms, strict: false, out _);
        CollectionAssert.AreEqual(before.NamedParameters().Where(p => !Adapter(p.Name)).SelectMany(p => p.Parameter.ToArray()).ToArray(),
            asr.Model.Backbone.NamedParameters().Where(p => !Adapter(p.Name)).SelectMany(p => p.Parameter.ToArray()).ToArray());
    }

    [TestMethod]
    [TestCategory("LongTraining")]   // hundreds of updates; .ci/run runs them all
    public void CtcThroughMLNetEqualsCtcThroughTheCli()
    {
        var (ml, data, tsv, pretrained) = Setup();
        // A recognizer that half reads the tones (300 flat-rate updates without masking, through the core), so that the
        // WER of the runs compared is neither 0 nor 100%; both runs continue it with its vocabulary.
        var train = Wav2Vec2.Data.AudioDataset.OpenTranscribed(tsv);
        var defaults = new CtcFineTuningOptions();
        var stage = defaults with
        {
            Optimization = defaults.Optimization with
            {
                MaxUpdates = 300, LearningRate = 1e-3f, Schedule = new TriStageSchedule { WarmupFraction = 0.05, HoldFraction = 0.9, DecayFraction = 0.05 },
            },
            Regularization = defaults.Regularization with { FeatureGradMult = 1f, MaskTimeProb = 0f, MaskFeatureProb = 0f, LayerDrop = 0f, ActivationDropout = 0f },
            Run = defaults.Run with { Seed = 11, ValidateInterval = 0, SaveInterval = 0 },
            Batching = CtcFineTuningOptions.Presets["tiny"].Batching with { MaxTokens = 48_000 },
            FreezeFineTuneUpdates = 0,
        };
        var reader = CtcFineTuner.CreateModel(pretrained, CtcFineTuner.BuildVocabulary(train), stage, out _);
        new CtcFineTuner(reader, stage, Path.Combine(TempDirectory, "stage")) { Log = _ => { } }.Train(train);
        string start = Path.Combine(TempDirectory, "stage", "final");

        const int updates = 30;
        string cliRun = Path.Combine(TempDirectory, "cli");
        var (code, output, error) = CliRunner.Run("--threads", "2", "finetune", "--init", start, "--train", tsv, "--out", cliRun, "--preset", "tiny",
            "--max-updates", $"{updates}", "--lr", "3e-4", "--freeze-updates", "0", "--seed", "11", "--max-tokens", "48000");
        Assert.AreEqual(0, code, output + error);
        (code, output, error) = CliRunner.Run("--threads", "2", "evaluate", "--model", Path.Combine(cliRun, "final"), "--data", tsv);
        Assert.AreEqual(0, code, output + error);
        string cliWer = Regex.Match(output, "WER: .*").Value;

        var options = Options(start, tsv, updates, Path.Combine(TempDirectory, "mlnet"));
        options.LearningRate = 3e-4f;
        Wav2Vec2TranscribeTransformer asr = ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(options).Fit(data);
        TranscriptionMetrics metrics = ml.SpeechRecognition.Evaluate(asr.Transform(data));
        var cliModel = Wav2Vec2ForCtc.FromPretrained(Path.Combine(cliRun, "final"));
        CollectionAssert.AreEqual(cliModel.Parameters().SelectMany(p => p.ToArray()).ToArray(),
            asr.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(), "the same weights, to the bit");
        StringAssert.StartsWith(cliWer, $"WER: {metrics.WordErrorRate.ToString("P2", System.Globalization.CultureInfo.InvariantCulture)} " +
            $"({metrics.Words.Errors} errors in {metrics.Words.ReferenceLength} words", "the same WER: " + cliWer);
        Assert.AreEqual((4, 7), (metrics.Words.Errors, metrics.Words.ReferenceLength), $"the seeded WER, 4 of 7 words (a WER that says something: {cliWer})");
        string[] Losses(string run) => File.ReadAllLines(Path.Combine(run, "train_log.jsonl")).Select(l => Regex.Match(l, "\"loss\":[^,]*").Value).ToArray();
        CollectionAssert.AreEqual(Losses(cliRun), Losses(Path.Combine(TempDirectory, "mlnet")), "the same logged losses");
    }

    [TestMethod]
    public void TheTranscriberSavesLoadsAndTranscribesTheSameAndTheSameSeedGivesTheSameModel()
    {
        var (ml, data, tsv, pretrained) = Setup();
        Wav2Vec2TranscribeTransformer first = ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(Options(pretrained, tsv, 4)).Fit(data);
        Wav2Vec2TranscribeTransformer second = ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(Options(pretrained, tsv, 4)).Fit(data);
        CollectionAssert.AreEqual(first.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(),
            second.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(), "deterministic for a fixed seed and thread count");

        string path = Path.Combine(TempDirectory, "asr.zip");
        ml.Model.SaveWav2Vec2(first, data.Schema, path);
        ITransformer loaded = new MLContext(seed: 1).Model.LoadWav2Vec2(path, out _);
        CollectionAssert.AreEqual(first.Transform(data).GetColumn<string>("PredictedTranscript").ToArray(),
            loaded.Transform(data).GetColumn<string>("PredictedTranscript").ToArray());
        var reloaded = (Wav2Vec2TranscribeTransformer)((IEnumerable<ITransformer>)loaded).Single();
        CollectionAssert.AreEqual(first.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(),
            reloaded.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(), "the trained weights are in the zip");
        Assert.AreEqual(first.Model.Tokenizer!.Count, reloaded.Model.Tokenizer!.Count, "with the vocabulary");
    }

    [TestMethod]
    public void CancellationKeepsTheCheckpointAndResumingUsesItsVocabulary()
    {
        var (ml, data, tsv, pretrained) = Setup();
        string run = Path.Combine(TempDirectory, "run");
        using var stop = new CancellationTokenSource();
        var options = Options(pretrained, tsv, 6, run);
        (options.LogInterval, options.CancellationToken) = (1, stop.Token);
        ml.Log += (_, e) => { if (e.RawMessage.StartsWith("update 3/", StringComparison.Ordinal)) stop.Cancel(); };
        StringAssert.Contains(Assert.ThrowsExactly<OperationCanceledException>(() => ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(options).Fit(data)).Message,
            "Wav2Vec2CtcTrainer: cancelled after update 3 of 6");
        Assert.IsTrue(File.Exists(Path.Combine(run, "checkpoint-3", "vocab.json")));

        var log = new List<string>();
        var fresh = new MLContext(seed: 0);
        fresh.Log += (_, e) => log.Add(e.RawMessage);
        var resume = Options(pretrained, tsv, 6, run);
        resume.ResumeFromCheckpoint = true;
        Wav2Vec2TranscribeTransformer resumed = fresh.SpeechRecognition.Trainers.Wav2Vec2Ctc(resume).Fit(data);
        Wav2Vec2TranscribeTransformer straight = fresh.SpeechRecognition.Trainers.Wav2Vec2Ctc(Options(pretrained, tsv, 6)).Fit(data);
        CollectionAssert.AreEqual(straight.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(),
            resumed.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(), "6 updates == 3, cancel, resume, 3");
        Assert.IsTrue(log.Any(l => l.StartsWith("resumed from", StringComparison.Ordinal) && l.Contains("checkpoint-3")), string.Join("\n", log));
        Assert.IsTrue(log.Any(l => l.Contains(Path.Combine("checkpoint-3", "vocab.json"))), "the checkpoint's vocabulary");
    }

    [TestMethod]
    public void AudioSamplesAndAnInMemoryPreTrainedModelTrainToo()
    {
        var (ml, data, tsv, pretrained) = Setup();
        IDataView samples = ml.Transforms.LoadAudio("Audio", Path.GetDirectoryName(tsv), "Path").Fit(data).Transform(data);
        var options = Options(pretrained, tsv, 3);
        (options.AudioColumnName, options.AudioFolder, options.ModelDirectory) = ("Audio", null, null);
        options.Model = Wav2Vec2Model.FromPretrained(pretrained, strict: false, out _);
        options.ValidationData = samples;
        CtcFineTuningOptions tiny = CtcFineTuningOptions.Presets["tiny"];
        options.Recipe = tiny with { Run = tiny.Run with { ValidateInterval = 1, ValidateAfterUpdates = 0 } };
        string run = Path.Combine(TempDirectory, "run");
        options.OutputDirectory = run;
        Wav2Vec2TranscribeTransformer asr = ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(options).Fit(samples);
        Assert.AreEqual(3, asr.Transform(samples).GetColumn<string>("PredictedTranscript").Count());
        Assert.AreEqual(3, File.ReadAllLines(Path.Combine(run, "train_log.jsonl")).Count(l => l.Contains("\"wer\"")), "validated every update");

        // Paths give the same model as samples of the same files.
        Wav2Vec2TranscribeTransformer fromPaths = ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(Options(pretrained, tsv, 3)).Fit(data);
        CollectionAssert.AreEqual(fromPaths.Model.Parameters().SelectMany(p => p.ToArray()).ToArray(),
            asr.Model.Parameters().SelectMany(p => p.ToArray()).ToArray());
    }

    [TestMethod]
    public void SchemaErrorsNameTheColumnAtFitAndGetOutputSchema()
    {
        var (ml, data, tsv, pretrained) = Setup();
        var missing = Options(pretrained, tsv, 1);
        missing.TranscriptColumnName = "Text";
        var trainer = ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(missing);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(data)).Message,
            "Wav2Vec2CtcTrainer: could not find input column 'Text'");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(MLNetTestData.ShapeOf(data))).Message,
            "could not find input column 'Text'");
        IDataView numbers = ml.Transforms.Conversion.MapValueToKey("Transcript").Fit(data).Transform(data);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(Options(pretrained, tsv, 1)).Fit(numbers)).Message,
            "Wav2Vec2CtcTrainer: schema mismatch for input column 'Transcript': expected Text (a transcript), got Key<UInt32, 0-2>");
        SchemaShape shape = ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(Options(pretrained, tsv, 1)).GetOutputSchema(MLNetTestData.ShapeOf(data));
        Assert.AreEqual(TextDataViewType.Instance, shape.Single(c => c.Name == "PredictedTranscript").ItemType);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.SpeechRecognition.Trainers.Wav2Vec2Ctc(new Wav2Vec2CtcTrainerOptions())).Message,
            "set ModelDirectory or Model (one of them)");
    }

    [TestMethod]
    public void EvaluateScoresPredictedAgainstReferenceTranscriptsAsTheCoreDoes()
    {
        var ml = new MLContext(seed: 0);
        var rows = new[] { ("HELLO THERE", "HELO THERE"), ("A GOOD DAY", "A GOOD DAY TODAY"), ("IT'S TIME", "") };
        IDataView data = ml.Data.LoadFromEnumerable(rows.Select(r => new PredictionRow { Transcript = r.Item1, PredictedTranscript = r.Item2 }).ToList());
        TranscriptionMetrics metrics = ml.SpeechRecognition.Evaluate(data);
        TranscriptionMetrics expected = TranscriptionMetrics.From(rows.Select(r => TranscriptionResult.Score("", r.Item1, r.Item2)));
        Assert.AreEqual(expected.Words, metrics.Words);
        Assert.AreEqual(expected.Characters, metrics.Characters);
        Assert.AreEqual((1, 2, 1, 7), (metrics.Words.Substitutions, metrics.Words.Deletions, metrics.Words.Insertions, metrics.Words.ReferenceLength));
        Assert.AreEqual(4.0 / 7, metrics.WordErrorRate, 1e-12);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.SpeechRecognition.Evaluate(data, "Reference")).Message,
            "could not find input column 'Reference'");
    }

    public sealed class PredictionRow
    {
        public string Transcript { get; set; } = "";
        public string PredictedTranscript { get; set; } = "";
    }
}
