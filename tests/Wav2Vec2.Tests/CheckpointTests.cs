using Wav2Vec2.Audio;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;
using static Wav2Vec2.Tests.ModelParityTests;
using static Wav2Vec2.Tests.TestSupport;

namespace Wav2Vec2.Tests;

[TestClass]
public sealed class CheckpointTests : TempDirectoryTest
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
        File.Copy(FixturePath("models", "stable_layer", "vocab.json"), Path.Combine(TempDirectory, "vocab.json"));
        var reloaded = Wav2Vec2ForCtc.FromPretrained(TempDirectory);
        var before = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.ToArray());
        foreach (var (name, parameter) in reloaded.NamedParameters())
            CollectionAssert.AreEqual(before[name], parameter.ToArray(), name);
        Assert.IsTrue(reloaded.Config.UnknownFields.Contains("some_future_field"), "unknown config fields survive a round trip");
        Assert.IsTrue(reloaded.FeatureExtractor.ReturnAttentionMask);
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
    public void UnexpectedAndMisshapenTensorsFailStrictLoadingWithTheirNames()
    {
        var model = new Wav2Vec2Model(SmallConfig(), new RandomSource(1));
        string path = Path.Combine(TempDirectory, "model.safetensors");
        var tensors = model.NamedParameters().Select(p => (p.Name, (Tensor)p.Parameter)).ToList();
        SafeTensorsWriter.Write(path, [.. tensors, ("encoder.mystery", new Tensor(3))]);
        using (var source = new SafeTensorsSource(SafeTensorsFile.Open(path)))
        {
            var error = Assert.ThrowsExactly<InvalidDataException>(() => CheckpointLoader.Load(model.NamedTensors(), source));
            StringAssert.Contains(error.Message, "unexpected 1 tensor(s) in the checkpoint: encoder.mystery");
            LoadReport report = CheckpointLoader.Load(model.NamedTensors(), source, strict: false);
            CollectionAssert.AreEqual(new[] { "encoder.mystery" }, report.Ignored.ToArray());
        }
        tensors[0] = (tensors[0].Name, new Tensor(2, 2));
        SafeTensorsWriter.Write(path, tensors);
        using (var source = new SafeTensorsSource(SafeTensorsFile.Open(path)))
        {
            var error = Assert.ThrowsExactly<InvalidDataException>(() => CheckpointLoader.Load(model.NamedTensors(), source, strict: false));
            StringAssert.Contains(error.Message, $"shape mismatch for 1 tensor(s): {tensors[0].Name}: stored (2, 2)");
        }
    }

    [TestMethod]
    public void ShardedSafetensorsAreJoinedThroughTheIndex()
    {
        var model = new Wav2Vec2ForCtc(SmallConfig(), new RandomSource(2));
        var named = model.NamedParameters().ToList();
        int half = named.Count / 2;
        SafeTensorsWriter.Write(Path.Combine(TempDirectory, "model-00001-of-00002.safetensors"), named.Take(half).Select(p => (p.Name, (Tensor)p.Parameter)));
        SafeTensorsWriter.Write(Path.Combine(TempDirectory, "model-00002-of-00002.safetensors"), named.Skip(half).Select(p => (p.Name, (Tensor)p.Parameter)));
        var map = named.Select((p, i) => $"\"{p.Name}\": \"model-0000{(i < half ? 1 : 2)}-of-00002.safetensors\"");
        File.WriteAllText(Path.Combine(TempDirectory, "model.safetensors.index.json"), $"{{\"metadata\": {{}}, \"weight_map\": {{{string.Join(",", map)}}}}}");
        File.WriteAllText(Path.Combine(TempDirectory, "config.json"), SmallConfig().ToJson());
        var loaded = Wav2Vec2ForCtc.FromPretrained(TempDirectory);
        CollectionAssert.AreEqual(named[^1].Parameter.ToArray(), loaded.NamedParameters().Last().Parameter.ToArray());
    }

    [TestMethod]
    public void PickleThatCallsAFunctionIsRefusedAndNothingRuns()
    {
        var error = Assert.ThrowsExactly<InvalidDataException>(() => TorchCheckpoint.Open(FixturePath("evil_pytorch_model.bin")));
        StringAssert.Contains(error.Message, "refusing global 'posix.system'");
        string notZip = Path.Combine(TempDirectory, "pytorch_model.bin");
        File.WriteAllText(notZip, "plain text");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => TorchCheckpoint.Open(notZip)).Message, "not a zip-format");
    }

    [TestMethod]
    public void TorchSaveFileReadsTheSameTensorsAsTheParityFixture()
    {
        using var checkpoint = TorchCheckpoint.Open(FixturePath("models", "stable_layer", "pytorch_model.bin"));
        Assert.IsTrue(checkpoint.Names.Contains("wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original1"));
        CollectionAssert.AreEqual(new[] { 32, 8, 15 }, checkpoint.Shape("wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original1"));
        Assert.AreEqual(24, checkpoint.Read("wav2vec2.feature_extractor.conv_layers.0.conv.bias").Length);
    }

    [TestMethod]
    public void MissingDirectoryConfigOrWeightsAreReportedClearly()
    {
        StringAssert.Contains(Assert.ThrowsExactly<DirectoryNotFoundException>(() => Wav2Vec2ForCtc.FromPretrained(Path.Combine(TempDirectory, "nope"))).Message, "does not exist");
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => Wav2Vec2ForCtc.FromPretrained(TempDirectory)).Message, "no config.json");
        File.WriteAllText(Path.Combine(TempDirectory, "config.json"), SmallConfig().ToJson());
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => Wav2Vec2ForCtc.FromPretrained(TempDirectory)).Message, "no weights found");
    }

    [TestMethod]
    public void PaddedBatchEqualsEachUtteranceAloneForLayerNormModels()
    {
        var model = Wav2Vec2Model.FromPretrained(FixturePath("models", "stable_layer"), strict: true, out _);
        float[] full = model.FeatureExtractor.Prepare(WavReader.Read(FixturePath("reference_audio.wav")));
        float[] shorter = AudioNormalization.ZeroMeanUnitVariance(full.AsSpan(0, 6000));
        var batch = new float[2 * full.Length];
        full.CopyTo(batch, 0);
        shorter.CopyTo(batch, full.Length);
        Wav2Vec2Output padded = model.Forward(Tensor.FromArray(batch, 2, full.Length),
            new Wav2Vec2ForwardOptions { SampleLengths = [full.Length, shorter.Length] });
        Wav2Vec2Output alone = model.Forward(Tensor.FromArray(shorter, 1, shorter.Length));
        int frames = alone.FrameLengths[0], width = model.Config.HiddenSize, total = padded.LastHiddenState.Size(1);
        Assert.AreEqual(frames, padded.FrameLengths[1]);
        AssertClose(alone.LastHiddenState.Span, padded.LastHiddenState.Span.Slice(total * width, frames * width), 1e-5f, "padded item");
        Wav2Vec2Output first = model.Forward(Tensor.FromArray(full, 1, full.Length));
        AssertClose(first.LastHiddenState.Span, padded.LastHiddenState.Span[..(total * width)], 1e-5f, "full item");
    }

    [TestMethod]
    public void GroupNormModelsRejectUnequalLengthsInABatch()
    {
        var model = new Wav2Vec2Model(SmallConfig(), new RandomSource(3));
        var error = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new Tensor(2, 4000),
            new Wav2Vec2ForwardOptions { SampleLengths = [4000, 3000] }));
        StringAssert.Contains(error.Message, "group-norm feature encoders have no correct padding mask");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new Tensor(1, 12))).Message, "too short");
    }

    [TestMethod]
    public void ChunkedExtractionStitchesExactFrames()
    {
        // The layer-norm fixture model has 40 samples per frame and a 15-frame positional conv. With 0.2 s (80 frames)
        // of context, layer 0 (conv features + positional embedding) of every kept frame sees exactly what an unchunked
        // pass sees. (A group-norm encoder normalises over each window, so its chunks differ, as in Hugging Face.)
        var model = Wav2Vec2Model.FromPretrained(FixturePath("models", "stable_layer"), strict: true, out _);
        AudioClip audio = WavReader.Read(FixturePath("reference_audio.wav"));   // 0.6 s, 239 frames
        var chunking = new ChunkingOptions { ChunkSeconds = 0.5, ContextSeconds = 0.2 };
        var progress = new List<double>();
        Tensor whole = model.ExtractFeatures(audio, 0, new ChunkingOptions { ChunkSeconds = 0 });
        Tensor chunked = model.ExtractFeatures(audio, 0, chunking, new SyncProgress(progress));
        AssertClose(whole.Span, chunked.Span, 1e-5f, "layer 0 from chunks");
        Assert.IsTrue(progress.Count > 2 && progress[^1] == 1.0, $"progress over several chunks: {string.Join(", ", progress)}");
        Tensor last = model.ExtractFeatures(audio, null, chunking);
        CollectionAssert.AreEqual(new[] { 239, 32 }, last.ShapeArray, "deeper layers stitch into the same frames");
        Assert.ThrowsExactly<OperationCanceledException>(() => model.ExtractFeatures(audio, 1, null, null, new CancellationToken(true)));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.ExtractFeatures(audio, 0,
            new ChunkingOptions { ChunkSeconds = 0.3, ContextSeconds = 0.2 })).Message, "leave no room");
    }

    private sealed class SyncProgress(List<double> values) : IProgress<double>
    {
        public void Report(double value) => values.Add(value);
    }

    internal static Wav2Vec2Config SmallConfig() => new()
    {
        ConvDim = [16, 16], ConvKernel = [10, 3], ConvStride = [5, 2], HiddenSize = 16, NumHiddenLayers = 2,
        NumAttentionHeads = 2, IntermediateSize = 32, NumConvPosEmbeddings = 8, NumConvPosEmbeddingGroups = 4, VocabSize = 8,
    };
}
