using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using static Wav2Vec2.Tests.Support.CliRunner;

namespace Wav2Vec2.Tests.Inference;

/// <summary>Issue 24: a non-finite weight never yields NaN features, logits or transcripts; the error names the first
/// layer whose output is non-finite and its non-finite weights.</summary>
[TestClass]
public sealed class NonFiniteOutputTests : TempDirectoryTest
{
    private static readonly AudioClip Clip = SpelledInTones("ab");

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void OneNaNInOneWeightNamesItsLayerAndTensor(bool int8)
    {
        var model = new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(5));
        model.Train(false);
        if (int8)
            model.UsePrecision(Wav2Vec2.Nn.Precision.Int8);
        Poison(model, "wav2vec2.encoder.layers.1.attention.q_proj.weight", float.NaN, all: false);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => model.Logits(Clip));
        StringAssert.Contains(error.Message, "first appear in the output of wav2vec2.encoder.layers.1;");
        StringAssert.Contains(error.Message, "non-finite weights: wav2vec2.encoder.layers.1.attention.q_proj.weight (1 of 256 values)");
        Assert.ThrowsExactly<InvalidDataException>(() => model.Backbone.ExtractFeatures(Clip));
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void AnInfiniteHeadOrConvTensorIsNamedToo(bool int8)
    {
        var model = new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(6));
        model.Train(false);
        Wav2Vec2.Nn.Precision precision = int8 ? Wav2Vec2.Nn.Precision.Int8 : Wav2Vec2.Nn.Precision.Float32;
        model.UsePrecision(precision);
        Poison(model, "lm_head.weight", float.PositiveInfinity, all: true);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => model.Logits(Clip)).Message,
            "first appear in the output of the head; non-finite weights: lm_head.weight (128 of 128 values)");
        var backbone = new Wav2Vec2Model(TinyConfig(), new RandomSource(7));
        backbone.Train(false);
        backbone.UsePrecision(precision);
        Poison(backbone, "feature_extractor.conv_layers.1.conv.weight", float.NegativeInfinity, all: true);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => backbone.ExtractFeatures(Clip, layer: 0)).Message,
            "output of feature_extractor; non-finite weights: feature_extractor.conv_layers.1.conv.weight");
    }

    [TestMethod]
    public void TheCliRefusesWithOneLineAndWritesNoOutput()
    {
        var model = new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(8));
        Poison(model, "wav2vec2.encoder.layers.0.feed_forward.output_dense.weight", float.NaN, all: false);
        string directory = Path.Combine(TempDirectory, "model");
        model.SavePretrained(directory);
        string audio = Path.Combine(TempDirectory, "a.wav");
        File.WriteAllBytes(audio, WavWriter.Encode(Clip));
        string output = Path.Combine(TempDirectory, "out.npy");
        var (code, _, error) = Run("features", "--model", directory, "--audio", audio, "--out", output);
        Assert.AreEqual(1, code, error);
        Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
        StringAssert.Contains(error, $"error: {directory}: non-finite values first appear in the output of encoder.layers.0;");
        Assert.IsFalse(File.Exists(output));
    }

    private static void Poison(Wav2Vec2.Nn.Module model, string name, float value, bool all)
    {
        Span<float> weights = model.NamedParameters().Single(p => p.Name == name).Parameter.Span;
        if (all)
            weights.Fill(value);
        else
            weights[weights.Length / 2] = value;
    }
}
