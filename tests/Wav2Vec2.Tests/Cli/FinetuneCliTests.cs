using Wav2Vec2.Audio;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using static Wav2Vec2.Tests.Support.CliRunner;

namespace Wav2Vec2.Tests.Cli;

/// <summary>w2v2 finetune and w2v2 evaluate end to end on tone-spelled corpora, and their one-line errors.</summary>
[TestClass]
public sealed class FinetuneCliTests : TempDirectoryTest
{
    private string Pretrained()
    {
        string directory = Path.Combine(TempDirectory, "pretrained");
        new Wav2Vec2ForPreTraining(TinyConfig(), new RandomSource(4)).SavePretrained(directory);
        return directory;
    }

    [TestMethod]
    public void FinetuneWritesHuggingFaceDirectoriesThatEvaluateScores()
    {
        string train = ToneCorpus(Path.Combine(TempDirectory, "train"), ["HELLO", "WORLD", "OLD LORE"]);
        string dev = ToneCorpus(Path.Combine(TempDirectory, "dev"), ["HOLD", "DOER"]);
        string run = Path.Combine(TempDirectory, "run");
        string[] common = ["finetune", "--init", Pretrained(), "--train", train, "--valid", dev, "--out", run, "--preset", "tiny",
            "--max-tokens", "64000", "--valid-interval", "2", "--save-interval", "2", "--freeze-updates", "1"];
        var (code, output, error) = Run([.. common, "--max-updates", "4"]);
        Assert.AreEqual(0, code, error + output);
        StringAssert.Contains(output, "vocabulary: 12 tokens built from the training transcripts");
        StringAssert.Contains(output, "finished 4 updates");
        foreach (string directory in new[] { "best", "final", "checkpoint-4" })
            Assert.IsTrue(File.Exists(Path.Combine(run, directory, "vocab.json")), directory);
        string[] log = File.ReadAllLines(Path.Combine(run, "train_log.jsonl"));
        Assert.AreEqual(2, log.Count(l => l.Contains("\"split\":\"valid\"") && l.Contains("\"wer\":")), string.Join("\n", log));

        (code, _, error) = Run([.. common, "--max-updates", "6"]);
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "already holds checkpoints (the newest is checkpoint-");
        StringAssert.Contains(error, "(pass --resume to continue, or choose another --out)");
        (code, output, _) = Run([.. common, "--max-updates", "6", "--resume"]);
        Assert.AreEqual(0, code, output);
        StringAssert.Contains(output, "resumed from");

        string tsv = Path.Combine(TempDirectory, "results.tsv");
        (code, output, error) = Run("evaluate", "--model", Path.Combine(run, "final"), "--data", dev, "--out", tsv);
        Assert.AreEqual(0, code, error + output);
        StringAssert.Contains(output, "utterances: 2");
        StringAssert.Matches(output, new System.Text.RegularExpressions.Regex(@"WER: [\d.]+ % \(\d+ errors in 2 words: \d+ substitutions, \d+ deletions, \d+ insertions\)"));
        StringAssert.Contains(output, "in 8 characters");
        string[] rows = File.ReadAllLines(tsv);
        Assert.AreEqual("id\treference\thypothesis\tword_errors\treference_words\tsubstitutions\tdeletions\tinsertions\tchar_errors\treference_chars", rows[0]);
        StringAssert.StartsWith(rows[1], "1-2-0000\tHOLD\t");
    }

    [TestMethod]
    [DataRow("hubert_post_ln", "hubert", "Hubert", "family:       hubert (feature projection layer norm yes)")]
    [DataRow("wavlm", "wavlm", "WavLM", "attention:    gated relative position bias, 64 buckets to distance 100")]
    public void AnotherFamilysCheckpointIsInspectedTranscribedAndFineTuned(string fixture, string family, string classPrefix, string inspected)
    {
        string checkpoint = FixturePath("models", fixture);
        var (code, output, error) = Run("inspect", "--model", checkpoint);
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, $"family:       {family}");
        StringAssert.Contains(output, inspected);
        Assert.IsFalse(output.Contains("quantizer:"), $"{family} has no quantizer");
        (code, output, error) = Run("transcribe", "--model", checkpoint, "--audio", FixturePath("reference_audio.wav"));
        Assert.AreEqual(0, code, error);

        // A CTC fine-tuning run from the backbone: its vocabulary is this corpus's, the saved model is the family's ForCTC.
        string init = Path.Combine(TempDirectory, "init");
        Wav2Vec2Model.FromPretrained(checkpoint, strict: false, out _).SavePretrained(init);
        string train = ToneCorpus(Path.Combine(TempDirectory, "train"), ["HELLO", "WORLD", "OLD LORE"]);
        string run = Path.Combine(TempDirectory, "run");
        (code, output, error) = Run("finetune", "--init", init, "--train", train, "--out", run, "--preset", "tiny",
            "--max-tokens", "64000", "--max-updates", "2", "--freeze-updates", "1");
        Assert.AreEqual(0, code, error + output);
        string config = File.ReadAllText(Path.Combine(run, "final", "config.json"));
        StringAssert.Contains(config, $"\"{classPrefix}ForCTC\"");
        StringAssert.Contains(config, $"\"model_type\": \"{family}\"");
        Assert.AreEqual(family, Wav2Vec2ForCtc.FromPretrained(Path.Combine(run, "final")).Config.ModelType);
    }

    [TestMethod]
    [DataRow("no-transcripts", "no transcripts (*.trans.txt files in the LibriSpeech layout)")]
    [DataRow("outside-vocabulary", "1-2-0001.wav: transcript has characters outside the vocabulary: 'X'")]
    [DataRow("not-wav2vec2", "model_type is \"unispeech\", not a family this library reads (wav2vec2, hubert, data2vec-audio, wavlm)")]
    [DataRow("no-config", "no config.json (not a Hugging Face model directory)")]
    public void FinetuneUserErrorsPrintOneLineAndLeaveNoRunDirectory(string scenario, string expected)
    {
        string train = ToneCorpus(Path.Combine(TempDirectory, "train"), ["AB", scenario == "outside-vocabulary" ? "AX" : "BA"]);
        string init = Pretrained();
        string[] extra = [];
        switch (scenario)
        {
            case "no-transcripts":
                File.Delete(Path.Combine(train, "1", "2", "1-2.trans.txt"));
                break;
            case "outside-vocabulary":
                CtcTokenizer.FromTranscripts(["AB"]).Save(Path.Combine(TempDirectory, "vocab"));
                extra = ["--vocab", Path.Combine(TempDirectory, "vocab")];
                break;
            case "not-wav2vec2":
                File.WriteAllText(Path.Combine(init, "config.json"), """{"model_type": "unispeech"}""");
                break;
            case "no-config":
                File.Delete(Path.Combine(init, "config.json"));
                break;
        }
        string run = Path.Combine(TempDirectory, "run");
        var (code, output, error) = Run(["finetune", "--init", init, "--train", train, "--out", run, "--preset", "tiny", .. extra]);
        Assert.AreEqual(1, code, output + error);
        StringAssert.Contains(error, expected);
        Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
        Assert.IsFalse(Directory.Exists(run), "nothing is written");
    }

    [TestMethod]
    public void EvaluateNamesARecordingShorterThanTheReceptiveField()
    {
        string model = Path.Combine(TempDirectory, "model");
        var vocabulary = CtcTokenizer.FromTranscripts(["AB"]);
        Wav2Vec2Config config = TinyConfig();
        config.VocabSize = vocabulary.Count;
        new Wav2Vec2ForCtc(config, new RandomSource(1)) { Tokenizer = vocabulary }.SavePretrained(model);
        string data = Directory.CreateDirectory(Path.Combine(TempDirectory, "data")).FullName;
        File.WriteAllBytes(Path.Combine(data, "short.wav"), WavWriter.Encode(new AudioClip(new float[5], 16000)));
        File.WriteAllText(Path.Combine(data, "list.tsv"), "short.wav\tAB\n");
        string tsv = Path.Combine(TempDirectory, "out.tsv");
        var (code, _, error) = Run("evaluate", "--model", model, "--data", Path.Combine(data, "list.tsv"), "--out", tsv);
        Assert.AreEqual(1, code, error);
        StringAssert.Contains(error, "short.wav:");
        StringAssert.Contains(error, "too short");
        Assert.IsFalse(File.Exists(tsv));
    }
}
