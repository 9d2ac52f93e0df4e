using Microsoft.ML.OnnxRuntime;
using Wav2Vec2.Audio;
using Wav2Vec2.Models;
using Wav2Vec2.Onnx;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Onnx;

/// <summary>
/// Exports run in ONNX Runtime 1.32 (CPU, all graph optimisations) and give what our forward gives, within 1e-4 of
/// the largest value: every family and layout, odd lengths, and batches of unequal lengths through the attention mask.
/// </summary>
[TestClass]
public sealed class OnnxExportTests : TempDirectoryTest
{
    private const float Tolerance = 1e-4f;

    public static IEnumerable<object[]> ParityFixtures() => TestSupport.ParityFixtures();

    [TestMethod]
    [DynamicData(nameof(ParityFixtures))]
    public void ACtcExportGivesOurLogitsInOnnxRuntime(string fixture)
    {
        var model = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", fixture));
        string path = Path.Combine(TempDirectory, "model.onnx");
        OnnxExporter.Export(model, path);
        float[] input = model.Preprocessor.Prepare(AudioFile.Read(FixturePath("reference_audio.wav")));   // an odd length
        using var session = Session(path);
        var inputs = new Dictionary<string, OrtValue> { ["input_values"] = OrtValue.CreateTensorValueFromMemory(input, [1, input.Length]) };
        if (model.Preprocessor.ReturnAttentionMask)
            inputs["attention_mask"] = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, input.Length).ToArray(), [1, input.Length]);
        float[] onnx = Run(session, inputs, "logits");
        var (ours, _, _) = model.Forward(Tensor.FromArray(input, 1, input.Length));
        AssertClose(ours.Span, onnx, Tolerance, $"{fixture} logits");
    }

    [TestMethod]
    [DataRow("stable_layer")]
    [DataRow("wavlm_stable")]
    public void ABatchOfUnequalLengthsWithTheMaskGivesEachUtteranceWhatItGivesAlone(string fixture)
    {
        var model = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", fixture));
        string path = Path.Combine(TempDirectory, "model.onnx");
        OnnxExporter.Export(model, path);
        float[] full = model.Preprocessor.Prepare(AudioFile.Read(FixturePath("reference_audio.wav")));
        float[] shorter = model.Preprocessor.Normalize(full.AsSpan(0, 5003));
        using var session = Session(path);
        float[] logits = Run(session, PaddedBatch(full, shorter), "logits");
        int frames = model.Backbone.FrameCount(full.Length), vocabulary = model.Config.VocabSize;
        var (alone, _, _) = model.Forward(Tensor.FromArray(full, 1, full.Length));
        AssertClose(alone.Span, logits.AsSpan(0, frames * vocabulary), Tolerance, "the full utterance");
        var (shortAlone, _, _) = model.Forward(Tensor.FromArray(shorter, 1, shorter.Length));
        int shortFrames = model.Backbone.FrameCount(shorter.Length);
        AssertClose(shortAlone.Span, logits.AsSpan(frames * vocabulary, shortFrames * vocabulary), Tolerance, "the shorter utterance's valid frames");
    }

    [TestMethod]
    public void ABackboneExportGivesAChosenLayerOrEveryHiddenState()
    {
        var model = Wav2Vec2Model.FromPretrained(FixturePath("models", "mms"), strict: false);
        float[] input = model.Preprocessor.Prepare(AudioFile.Read(FixturePath("reference_audio.wav")));
        var ours = model.Forward(Tensor.FromArray(input, 1, input.Length), new Wav2Vec2ForwardOptions { OutputHiddenStates = true });
        var feeds = new Dictionary<string, OrtValue> { ["input_values"] = OrtValue.CreateTensorValueFromMemory(input, [1, input.Length]) };
        if (model.Preprocessor.ReturnAttentionMask)
            feeds["attention_mask"] = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, input.Length).ToArray(), [1, input.Length]);

        string all = Path.Combine(TempDirectory, "all.onnx");
        OnnxExporter.Export(model, all, new OnnxExportOptions { AllHiddenStates = true });
        using (var session = Session(all))
            for (int layer = 0; layer <= model.Config.NumHiddenLayers; layer++)
                AssertClose(ours.HiddenStates[layer].Span, Run(session, feeds, $"hidden_states.{layer}"), Tolerance, $"MMS (adapters) layer {layer}");

        string one = Path.Combine(TempDirectory, "layer1.onnx");
        OnnxExporter.Export(model, one, new OnnxExportOptions { Layer = 1 });
        using (var session = Session(one))
            AssertClose(ours.HiddenStates[1].Span, Run(session, feeds, "hidden_state"), Tolerance, "layer 1 alone");
        Assert.IsTrue(new FileInfo(one).Length < new FileInfo(all).Length, "the graph stops at the chosen layer");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void AClassifierExportGivesOurScores(bool weightedLayerSum)
    {
        Wav2Vec2Config config = Wav2Vec2Model.FromPretrained(FixturePath("models", "stable_layer"), strict: false).Config;
        config.UseWeightedLayerSum = weightedLayerSum;
        config.ClassifierProjSize = 8;
        config.Id2Label = new() { ["0"] = "a", ["1"] = "b", ["2"] = "c" };
        config.Label2Id = new() { ["a"] = 0, ["b"] = 1, ["c"] = 2 };
        var model = new Wav2Vec2ForSequenceClassification(config, new RandomSource(4));
        model.Train(false);
        if (weightedLayerSum)
            new float[] { 0.3f, -0.2f, 0.9f }.CopyTo(model.NamedTensors().Single(t => t.Name == "layer_weights").Tensor.Span);
        float[] full = TestSupport.RandomArray(7001, 3, 0.5f), shorter = full[..4507];
        string path = Path.Combine(TempDirectory, "classifier.onnx");
        OnnxExporter.Export(model, path, new OnnxExportOptions { AttentionMask = true });
        using var session = Session(path);
        float[] scores = Run(session, PaddedBatch(full, shorter), "logits");
        float[] expected = [.. model.Forward(Tensor.FromArray(full, 1, full.Length)).Logits.ToArray(),
            .. model.Forward(Tensor.FromArray(shorter, 1, shorter.Length)).Logits.ToArray()];
        AssertClose(expected, scores, Tolerance, $"scores (weighted layer sum {weightedLayerSum})");
    }

    [TestMethod]
    public void WeightsAboveTheThresholdGoToAnExternalDataFileThatOnnxRuntimeReads()
    {
        var model = Wav2Vec2ForCtc.FromPretrained(FixturePath("models", "post_ln_group"));
        string inline = Path.Combine(TempDirectory, "inline.onnx"), external = Path.Combine(TempDirectory, "external.onnx");
        OnnxExporter.Export(model, inline);
        OnnxExporter.Export(model, external, new OnnxExportOptions { ExternalDataAbove = 0 });
        Assert.IsFalse(File.Exists(inline + ".data"));
        Assert.IsTrue(new FileInfo(external + ".data").Length > new FileInfo(external).Length);
        float[] input = model.Preprocessor.Prepare(AudioFile.Read(FixturePath("reference_audio.wav")));
        var feeds = new Dictionary<string, OrtValue> { ["input_values"] = OrtValue.CreateTensorValueFromMemory(input, [1, input.Length]) };
        using var a = Session(inline);
        using var b = Session(external);
        CollectionAssert.AreEqual(Run(a, feeds, "logits"), Run(b, feeds, "logits"));
    }

    [TestMethod]
    public void APreTrainingModelOrAnUnwritablePathIsRefusedAndLeavesNothing()
    {
        string pretraining = Path.Combine(TempDirectory, "pretraining");
        new Wav2Vec2ForPreTraining(TestSupport.PreTrainableConfig(), new RandomSource(1)).SavePretrained(pretraining);
        string path = Path.Combine(TempDirectory, "model.onnx");
        var error = Assert.ThrowsExactly<InvalidDataException>(() => OnnxExporter.Export(pretraining, path));
        StringAssert.Contains(error.Message, "a pre-training model has no ONNX export of its head");
        Assert.IsFalse(File.Exists(path));
        OnnxExporter.Export(pretraining, path, backboneOnly: true);
        Assert.IsTrue(File.Exists(path));

        string missingFolder = Path.Combine(TempDirectory, "no", "such", "model.onnx");
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => OnnxExporter.Export(pretraining, missingFolder, backboneOnly: true));
        Assert.IsFalse(Directory.Exists(Path.Combine(TempDirectory, "no")));
        Assert.AreEqual(2, Directory.GetFileSystemEntries(TempDirectory).Length, "no temporary file left: " + string.Join(", ", Directory.GetFileSystemEntries(TempDirectory)));
    }

    [TestMethod]
    public void TheCommandLineExportsAndReportsErrorsInOneLine()
    {
        string path = Path.Combine(TempDirectory, "ctc.onnx");
        var (code, output, error) = CliRunner.Run("export-onnx", "--model", FixturePath("models", "hubert_stable"), "--out", path);
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, $"{path}: ");
        using (var session = Session(path))
            CollectionAssert.AreEquivalent(new[] { "input_values", "attention_mask" }, session.InputMetadata.Keys.ToArray());

        (code, _, error) = CliRunner.Run("export-onnx", "--model", FixturePath("models", "hubert_stable"), "--out", Path.Combine(TempDirectory, "missing", "x.onnx"));
        Assert.AreEqual(1, code);
        StringAssert.Contains(error, "does not exist");
        (code, _, error) = CliRunner.Run("export-onnx", "--model", FixturePath("models", "hubert_stable"), "--out", path, "--layer", "9");
        Assert.AreEqual(1, code);
        Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
        StringAssert.Contains(error, "layer 9 is out of range: this model has hidden states 0 to 2");
    }

    // input_values and attention_mask of a batch of two utterances, the second padded with zeros to the first's length.
    private static Dictionary<string, OrtValue> PaddedBatch(float[] full, float[] shorter)
    {
        var batch = new float[2 * full.Length];
        var mask = new long[2 * full.Length];
        full.CopyTo(batch, 0);
        shorter.CopyTo(batch, full.Length);
        mask.AsSpan(0, full.Length).Fill(1);
        mask.AsSpan(full.Length, shorter.Length).Fill(1);
        return new()
        {
            ["input_values"] = OrtValue.CreateTensorValueFromMemory(batch, [2, full.Length]),
            ["attention_mask"] = OrtValue.CreateTensorValueFromMemory(mask, [2, full.Length]),
        };
    }

    internal static InferenceSession Session(string path) => new(path, new SessionOptions
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        IntraOpNumThreads = 2,
    });

    internal static float[] Run(InferenceSession session, Dictionary<string, OrtValue> inputs, string output)
    {
        using var results = session.Run(new RunOptions(), [.. inputs.Keys], [.. inputs.Values], [output]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
