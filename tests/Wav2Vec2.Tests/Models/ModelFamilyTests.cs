using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

/// <summary>
/// The family a config.json names (model_type): HuBERT checkpoints load under Hugging Face's "hubert." names, save with
/// its architectures, may leave out the feature projection's layer norm; unknown families and HuBERT pre-training are
/// refused in one line.
/// </summary>
[TestClass]
public sealed class ModelFamilyTests : TempDirectoryTest
{
    [TestMethod]
    public void AHubertModelRoundTripsUnderHuggingFacesNames()
    {
        var model = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", "hubert_post_ln"));
        Assert.AreEqual("hubert", model.Config.ModelType);
        Assert.IsTrue(model.NamedTensors().Any(t => t.Name == "hubert.feature_projection.layer_norm.weight"));
        string saved = Path.Combine(TempDirectory, "saved");
        model.SavePretrained(saved);
        StringAssert.Contains(File.ReadAllText(Path.Combine(saved, "config.json")), "\"HubertForCTC\"");
        StringAssert.Contains(File.ReadAllText(Path.Combine(saved, "config.json")), "\"model_type\": \"hubert\"");
        var again = Wav2Vec2ForCtc.FromPretrained(saved);
        CollectionAssert.AreEqual(model.Parameters().SelectMany(p => p.ToArray()).ToArray(), again.Parameters().SelectMany(p => p.ToArray()).ToArray());
        Assert.AreEqual("CTC", ModelSummary.Read(saved).Head);

        // The backbone alone: "hubert." stripped, the head reported as ignored.
        var backbone = Wav2Vec2Model.FromPretrained(saved, strict: true, out var report);
        CollectionAssert.AreEqual(new[] { "lm_head.bias", "lm_head.weight" }, report.Ignored.ToArray());
        backbone.SavePretrained(Path.Combine(TempDirectory, "backbone"));
        StringAssert.Contains(File.ReadAllText(Path.Combine(TempDirectory, "backbone", "config.json")), "\"HubertModel\"");
    }

    [TestMethod]
    public void WithoutFeatProjLayerNormTheProjectionReadsTheRawConvFeatures()
    {
        Wav2Vec2Config config = TinyConfig();
        config.ModelType = "hubert";
        config.FeatProjLayerNorm = false;
        var model = new Wav2Vec2Model(config, new RandomSource(3));
        Assert.IsFalse(model.NamedTensors().Any(t => t.Name.StartsWith("feature_projection.layer_norm", StringComparison.Ordinal)));
        float[] input = TestSupport.RandomArray(4000, 5, 0.3f);
        var output = model.Forward(Tensor.FromArray(input, 1, input.Length));
        // extract_features is then the conv output itself, and differs from what a normalising projection would see.
        config.FeatProjLayerNorm = true;
        var normalising = new Wav2Vec2Model(config, new RandomSource(3));
        var normalised = normalising.Forward(Tensor.FromArray(input, 1, input.Length));
        CollectionAssert.AreNotEqual(output.ExtractFeatures.ToArray(), normalised.ExtractFeatures.ToArray());
        Assert.IsTrue(output.LastHiddenState.ToArray().All(float.IsFinite));
    }

    [TestMethod]
    public void UnknownFamiliesAndHubertPreTrainingAreRefused()
    {
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2Config.FromJson("""{"model_type": "wavlm"}""", "x/config.json")).Message,
            "x/config.json: model_type is \"wavlm\", not a family this library reads (wav2vec2, hubert)");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2Config.FromJson("""{"model_type": "hubert", "conv_pos_batch_norm": true}""", "c.json")).Message,
            "conv_pos_batch_norm is true");
        Wav2Vec2Config hubert = TinyConfig();
        hubert.ModelType = "hubert";
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new Wav2Vec2ForPreTraining(hubert, new RandomSource(0))).Message,
            "has no wav2vec 2.0 pre-training head");
    }
}
