using static Wav2Vec2.Tests.Support.CliRunner;

namespace Wav2Vec2.Tests.Cli;

/// <summary>w2v2 with fairseq checkpoints: convert, and --model taking a .pt as it takes a directory.</summary>
[TestClass]
public sealed class FairseqCliTests : TempDirectoryTest
{
    [TestMethod]
    public void ACheckpointIsConvertedAndTranscribesAsItsConversion()
    {
        string checkpoint = FixturePath("fairseq", "ctc_dictconfig", "checkpoint.pt");
        string converted = Path.Combine(TempDirectory, "converted");
        var (code, output, error) = Run("convert", "--checkpoint", checkpoint, "--out", converted);
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, $"{converted}: CTC model, ");
        CollectionAssert.IsSubsetOf(new[] { "config.json", "model.safetensors", "preprocessor_config.json", "vocab.json" },
            Directory.GetFiles(converted).Select(Path.GetFileName).ToArray());

        (code, output, error) = Run("inspect", "--model", checkpoint);
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "family:       wav2vec2");
        StringAssert.Contains(output, "pre-LN (stable layer norm)");
        string audio = FixturePath("reference_audio.wav");
        var fromCheckpoint = Run("transcribe", "--model", checkpoint, "--audio", audio);
        var fromDirectory = Run("transcribe", "--model", converted, "--audio", audio);
        Assert.AreEqual(0, fromCheckpoint.Code, fromCheckpoint.Error);
        Assert.AreEqual(fromDirectory.Output, fromCheckpoint.Output);
    }

    [TestMethod]
    public void AnUnsupportedCheckpointIsOneLineAndLeavesNothing()
    {
        string checkpoint = FixturePath("fairseq", "bad", "seq2seq.pt");
        string converted = Path.Combine(TempDirectory, "converted");
        var (code, _, error) = Run("convert", "--checkpoint", checkpoint, "--out", converted);
        Assert.AreEqual(1, code);
        Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
        StringAssert.Contains(error, "cfg.model._name is 'wav2vec_seq2seq'");
        Assert.IsFalse(Directory.Exists(converted));
        (code, _, error) = Run("convert", "--checkpoint", Path.Combine(TempDirectory, "missing.pt"), "--out", converted);
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "missing.pt: no such file");
    }
}
