using Wav2Vec2.Audio;
using Wav2Vec2.IO;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Models;

/// <summary>
/// Layer-by-layer parity with torchaudio models exported as Hugging Face checkpoints (tools/export_reference.py):
/// a post-LN group-norm model in model.safetensors and a pre-LN layer-norm model in pytorch_model.bin, and the same two
/// layouts as HuBERT checkpoints (torchaudio's hubert_base and hubert_large builders are these models); data2vec-audio
/// (tools/export_data2vec_reference.py: torchaudio's model with data2vec-audio's positional embedding written in PyTorch);
/// WavLM in both layouts (tools/export_wavlm_reference.py: torchaudio's model with WavLM's gated relative position bias
/// written in PyTorch).
/// </summary>
[TestClass]
public sealed class ModelParityTests
{
    private const float Tolerance = 1e-4f;

    public static IEnumerable<object[]> ParityFixtures() => TestSupport.ParityFixtures();

    [TestMethod]
    [DynamicData(nameof(ParityFixtures))]
    public void EveryHiddenStateAndTheLogitsMatchTorchaudio(string name)
    {
        var model = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", name));
        using var reference = SafeTensorsFile.Open(FixturePath(name + ".reference.safetensors"));
        AudioClip audio = AudioFile.Read(FixturePath("reference_audio.wav"));
        float[] input = model.Preprocessor.Prepare(audio);
        AssertClose(reference.Read("input_values").Span, input, 1e-5f, $"{name} input values");

        var (logits, output, _) = model.Forward(Tensor.FromArray(input, 1, input.Length),
            options: new Wav2Vec2ForwardOptions { OutputHiddenStates = true });
        AssertClose(reference.Read("extract_features").Span, output.ExtractFeatures.Span, Tolerance, $"{name} extract_features");
        Assert.AreEqual(model.Config.NumHiddenLayers + 1, output.HiddenStates.Count);
        for (int i = 0; i < output.HiddenStates.Count; i++)
            AssertClose(reference.Read($"hidden_states.{i}").Span, output.HiddenStates[i].Span, Tolerance, $"{name} hidden_states[{i}]");
        CollectionAssert.AreEqual(output.HiddenStates[^1].ToArray(), output.LastHiddenState.ToArray());
        AssertClose(reference.Read("logits").Span, logits.Span, Tolerance, $"{name} logits");
    }

    [TestMethod]
    [DynamicData(nameof(ParityFixtures))]
    public void ExtractFeaturesOfAnyLayerMatchesTheReference(string name)
    {
        var model = Wav2Vec2Model.FromPretrained(FixturePath("models", name), strict: true, out LoadReport report);
        CollectionAssert.AreEqual(new[] { "lm_head.bias", "lm_head.weight" }, report.Ignored.ToArray(), "the CTC head is ignored");
        using var reference = SafeTensorsFile.Open(FixturePath(name + ".reference.safetensors"));
        AudioClip audio = AudioFile.Read(FixturePath("reference_audio.wav"));
        for (int layer = 0; layer <= model.Config.NumHiddenLayers; layer++)
        {
            Tensor features = model.ExtractFeatures(audio, layer);
            AssertClose(reference.Read($"hidden_states.{layer}").Span, features.Span, Tolerance, $"{name} layer {layer}");
            CollectionAssert.AreEqual(new[] { 239, 32 }, features.ShapeArray);
        }
    }
}
