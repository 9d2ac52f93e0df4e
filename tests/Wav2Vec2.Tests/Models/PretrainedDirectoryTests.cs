using Wav2Vec2.IO;
using Wav2Vec2.Models;

namespace Wav2Vec2.Tests.Models;

[TestClass]
public sealed class PretrainedDirectoryTests : TempDirectoryTest
{
    [TestMethod]
    public void SaveThenLoadIsLosslessAndUsesHuggingFaceNames()
    {
        var model = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", "stable_layer"));
        model.SavePretrained(TempDirectory);
        using (var file = SafeTensorsFile.Open(Path.Combine(TempDirectory, "model.safetensors")))
        {
            Assert.IsTrue(file.Contains("wav2vec2.encoder.pos_conv_embed.conv.weight_g"));
            Assert.IsTrue(file.Contains("wav2vec2.feature_extractor.conv_layers.3.layer_norm.bias"));
            Assert.IsTrue(file.Contains("lm_head.weight"));
            Assert.AreEqual(model.NamedParameters().Count(), file.Entries.Count);
        }
        var reloaded = Wav2Vec2ForCtc.FromPretrained(TempDirectory);
        Assert.AreEqual(model.Tokenizer!.Count, reloaded.Tokenizer!.Count, "the vocabulary is saved beside the weights");
        foreach (string file in new[] { "tokenizer_config.json", "special_tokens_map.json" })
            Assert.IsTrue(File.Exists(Path.Combine(TempDirectory, file)), file);
        var before = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.ToArray());
        foreach (var (name, parameter) in reloaded.NamedParameters())
            CollectionAssert.AreEqual(before[name], parameter.ToArray(), name);
        Assert.IsTrue(reloaded.Config.UnknownFields.Contains("some_future_field"), "unknown config fields survive a round trip");
        Assert.IsTrue(reloaded.Preprocessor.ReturnAttentionMask);
    }

    [TestMethod]
    public void BackboneSavedWithoutPrefixLoadsIntoACtcModelOnlyNonStrictly()
    {
        var backbone = Wav2Vec2Model.FromPretrained(FixturePath("models", "post_ln_group"), strict: true, out _);
        backbone.SavePretrained(TempDirectory);
        using (var file = SafeTensorsFile.Open(Path.Combine(TempDirectory, "model.safetensors")))
            Assert.IsTrue(file.Contains("encoder.layers.0.attention.q_proj.weight"), "a bare backbone is saved without prefix");
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2ForCtc.FromPretrained(TempDirectory));
        StringAssert.Contains(error.Message, "missing 2 tensor(s) in the checkpoint: lm_head.weight, lm_head.bias");
        var ctc = Wav2Vec2ForCtc.FromPretrained(TempDirectory, strict: false, out LoadReport report);
        CollectionAssert.AreEqual(new[] { "lm_head.weight", "lm_head.bias" }, report.Missing.ToArray());
        CollectionAssert.AreEqual(backbone.Parameters()[5].ToArray(), ctc.Backbone.Parameters()[5].ToArray());
    }

    [TestMethod]
    public void MissingDirectoryConfigOrWeightsAreReportedClearly()
    {
        StringAssert.Contains(Assert.ThrowsExactly<DirectoryNotFoundException>(() => Wav2Vec2ForCtc.FromPretrained(Path.Combine(TempDirectory, "nope"))).Message, "does not exist");
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => Wav2Vec2ForCtc.FromPretrained(TempDirectory)).Message, "no config.json");
        File.WriteAllText(Path.Combine(TempDirectory, "config.json"), TinyConfig().ToJson());
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => Wav2Vec2ForCtc.FromPretrained(TempDirectory)).Message, "no weights found");
    }
}
