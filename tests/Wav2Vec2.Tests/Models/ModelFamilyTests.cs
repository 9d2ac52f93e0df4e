using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

/// <summary>
/// The family a config.json names (model_type): HuBERT and data2vec-audio checkpoints load under Hugging Face's names
/// ("hubert.", "data2vec_audio."), save with its architectures; HuBERT may leave out the feature projection's layer
/// norm; unknown families and pre-training of other families are refused in one line.
/// </summary>
[TestClass]
public sealed class ModelFamilyTests : TempDirectoryTest
{
    [TestMethod]
    [DataRow("hubert_post_ln", "hubert", "hubert.", "Hubert")]
    [DataRow("data2vec_audio", "data2vec-audio", "data2vec_audio.", "Data2VecAudio")]
    [DataRow("wavlm", "wavlm", "wavlm.", "WavLM")]
    public void AModelRoundTripsUnderHuggingFacesNames(string fixture, string family, string prefix, string classPrefix)
    {
        var model = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", fixture));
        Assert.AreEqual(family, model.Config.ModelType);
        Assert.IsTrue(model.NamedTensors().All(t => t.Name.StartsWith(prefix, StringComparison.Ordinal) || t.Name.StartsWith("lm_head.", StringComparison.Ordinal)));
        string saved = Path.Combine(TempDirectory, "saved");
        model.SavePretrained(saved);
        StringAssert.Contains(File.ReadAllText(Path.Combine(saved, "config.json")), $"\"{classPrefix}ForCTC\"");
        StringAssert.Contains(File.ReadAllText(Path.Combine(saved, "config.json")), $"\"model_type\": \"{family}\"");
        var again = Wav2Vec2ForCtc.FromPretrained(saved);
        CollectionAssert.AreEqual(model.Parameters().SelectMany(p => p.ToArray()).ToArray(), again.Parameters().SelectMany(p => p.ToArray()).ToArray());
        Assert.AreEqual("CTC", ModelSummary.Read(saved).Head);

        // The backbone alone: the prefix stripped, the head reported as ignored.
        var backbone = Wav2Vec2Model.FromPretrained(saved, strict: true, out var report);
        CollectionAssert.AreEqual(new[] { "lm_head.bias", "lm_head.weight" }, report.Ignored.ToArray());
        backbone.SavePretrained(Path.Combine(TempDirectory, "backbone"));
        StringAssert.Contains(File.ReadAllText(Path.Combine(TempDirectory, "backbone", "config.json")), $"\"{classPrefix}Model\"");
    }

    [TestMethod]
    public void ALoadInitialisesOnlyWhatTheCheckpointLacksWithTheValuesAnEagerBuildGives()
    {
        // A backbone checkpoint under a CTC head: the head is missing, so it is initialised, as new Wav2Vec2ForCtc(config,
        // seed 0) initialises it; everything else comes from the checkpoint (its random initialisation is never computed).
        string directory = FixturePath("models", "hubert_post_ln");
        string backbone = Path.Combine(TempDirectory, "backbone");
        Wav2Vec2Model.FromPretrained(directory, strict: false, out _).SavePretrained(backbone);
        var loaded = Wav2Vec2ForCtc.FromPretrained(backbone, strict: false, out var report);
        CollectionAssert.AreEquivalent(new[] { "lm_head.weight", "lm_head.bias" }, report.Missing.ToArray());
        var eager = new Wav2Vec2ForCtc(loaded.Config, new RandomSource(0));
        float[] Named(Wav2Vec2ForCtc m, string name) => m.NamedTensors().Single(t => t.Name == name).Tensor.ToArray();
        CollectionAssert.AreEqual(Named(eager, "lm_head.weight"), Named(loaded, "lm_head.weight"));
        CollectionAssert.AreEqual(Named(eager, "lm_head.bias"), Named(loaded, "lm_head.bias"));
        Assert.IsTrue(Named(loaded, "lm_head.weight").Any(v => v != 0));
        CollectionAssert.AreEqual(Wav2Vec2Model.FromPretrained(directory, strict: false, out _).NamedTensors().First().Tensor.ToArray(),
            loaded.NamedTensors().First().Tensor.ToArray(), "the backbone is the checkpoint's");
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
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2Config.FromJson("""{"model_type": "unispeech"}""", "x/config.json")).Message,
            "x/config.json: model_type is \"unispeech\", not a family this library reads (wav2vec2, hubert, data2vec-audio, wavlm)");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2Config.FromJson("""{"model_type": "hubert", "conv_pos_batch_norm": true}""", "c.json")).Message,
            "conv_pos_batch_norm is true");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2Config.FromJson("""{"model_type": "wavlm", "num_buckets": 2}""", "c.json")).Message,
            "c.json: num_buckets must be at least 4, got 2");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2Config.FromJson("""{"model_type": "wavlm", "num_buckets": 64, "max_bucket_distance": 16}""", "c.json")).Message,
            "c.json: max_bucket_distance (16) must exceed a quarter of num_buckets (64)");
        foreach (string family in new[] { "hubert", "data2vec-audio", "wavlm" })
        {
            Wav2Vec2Config config = TinyConfig();
            config.ModelType = family;
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new Wav2Vec2ForPreTraining(config, new RandomSource(0))).Message,
                "has no wav2vec 2.0 pre-training head");
        }
    }
}
