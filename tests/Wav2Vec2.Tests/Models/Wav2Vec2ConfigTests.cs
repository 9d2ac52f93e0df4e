using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

[TestClass]
public sealed class Wav2Vec2ConfigTests
{
    [TestMethod]
    public void PresetsHaveTheFairseqShapes()
    {
        Wav2Vec2Config b = Wav2Vec2Config.Base(), l = Wav2Vec2Config.Large(), t = Wav2Vec2Config.Tiny();
        Assert.AreEqual((768, 12, 12, 3072, FeatureEncoderNorm.Group, false), (b.HiddenSize, b.NumHiddenLayers, b.NumAttentionHeads, b.IntermediateSize, b.FeatExtractNorm, b.DoStableLayerNorm));
        Assert.AreEqual((1024, 24, 16, 4096, FeatureEncoderNorm.Layer, true, true), (l.HiddenSize, l.NumHiddenLayers, l.NumAttentionHeads, l.IntermediateSize, l.FeatExtractNorm, l.DoStableLayerNorm, l.ConvBias));
        Assert.AreEqual((256, 4, 4, 1024, 64, 16, 100, 50), (t.HiddenSize, t.NumHiddenLayers, t.NumAttentionHeads, t.IntermediateSize, t.NumConvPosEmbeddings, t.NumConvPosEmbeddingGroups, t.NumCodevectorsPerGroup, t.NumNegatives));
        CollectionAssert.AreEqual(new[] { 10, 3, 3, 3, 3, 2, 2 }, t.ConvKernel);
        Assert.AreEqual(320, b.InputsToLogitsRatio);
        Assert.AreEqual(400, ChunkedInference.ReceptiveField(b));
        Assert.AreEqual(94_371_712, new Wav2Vec2Model(b, new RandomSource(0)).ParameterCount(), "wav2vec2-base backbone");
    }

    [TestMethod]
    public void JsonRoundTripKeepsUnknownFieldsAndSnakeCaseNames()
    {
        string json = """{"hidden_size": 64, "num_attention_heads": 4, "num_conv_pos_embedding_groups": 4, "layerdrop": 0.05, "my_field": [1, 2], "conv_bias": true}""";
        Wav2Vec2Config config = Wav2Vec2Config.FromJson(json);
        Assert.AreEqual(64, config.HiddenSize);
        Assert.AreEqual(0.05f, config.LayerDrop);
        Assert.IsTrue(config.ConvBias);
        CollectionAssert.AreEqual(new[] { "my_field" }, config.UnknownFields.ToArray());
        string written = config.ToJson();
        StringAssert.Contains(written, "\"my_field\"");
        StringAssert.Contains(written, "\"layerdrop\": 0.05");
        StringAssert.Contains(written, "\"num_conv_pos_embedding_groups\": 4");
        Wav2Vec2Config again = Wav2Vec2Config.FromJson(written);
        Assert.AreEqual(config.ToJson(), again.ToJson());
    }

    [TestMethod]
    [DataRow("""{"conv_dim": [512, 512], "conv_stride": [5], "conv_kernel": [10, 3]}""", "conv_dim conv_stride and conv_kernel must have the same length")]
    [DataRow("""{"hidden_size": 100}""", "hidden_size (100) must be divisible by num_attention_heads (12)")]
    [DataRow("""{"feat_extract_norm": "batch"}""", "feat_extract_norm must be \"group\" or \"layer\"")]
    [DataRow("""{"hidden_act": "swish"}""", "hidden_act \"swish\" is not supported")]
    [DataRow("""{"hidden_dropout": 1.5}""", "hidden_dropout must be in [0, 1]")]
    [DataRow("""{"hidden_size": "wide"}""", "field 'hidden_size' has an invalid value \"wide\"")]
    [DataRow("""{"num_codevector_groups": 3}""", "codevector_dim (256) must be divisible by num_codevector_groups (3)")]
    [DataRow("""{"add_adapter": true}""", "add_adapter is not supported")]
    [DataRow("""[1, 2]""", "not a JSON object")]
    [DataRow("""{"hidden_size": 64""", "invalid JSON")]
    public void InvalidConfigsNameTheField(string json, string expected)
    {
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2Config.FromJson(json, "config.json"));
        StringAssert.Contains(error.Message, expected);
        StringAssert.StartsWith(error.Message, "config.json");
    }
}
