using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.IO;

[TestClass]
public sealed class CheckpointLoaderTests : TempDirectoryTest
{
    [TestMethod]
    public void UnexpectedAndMisshapenTensorsFailStrictLoadingWithTheirNames()
    {
        var model = new Wav2Vec2Model(TinyConfig(), new RandomSource(1));
        string path = Path.Combine(TempDirectory, "model.safetensors");
        var tensors = model.NamedParameters().Select(p => (p.Name, (Tensor)p.Parameter)).ToList();
        SafeTensorsWriter.Write(path, [.. tensors, ("encoder.mystery", new Tensor(3))]);
        using (var source = new SafeTensorsSource(SafeTensorsFile.Open(path)))
        {
            var error = Assert.ThrowsExactly<InvalidDataException>(() => CheckpointLoader.Load(model.NamedTensors(), source, CheckpointLayout.Exact));
            StringAssert.Contains(error.Message, "unexpected 1 tensor(s) in the checkpoint: encoder.mystery");
            LoadReport report = CheckpointLoader.Load(model.NamedTensors(), source, CheckpointLayout.Exact, strict: false);
            CollectionAssert.AreEqual(new[] { "encoder.mystery" }, report.Ignored.ToArray());
        }
        tensors[0] = (tensors[0].Name, new Tensor(2, 2));
        SafeTensorsWriter.Write(path, tensors);
        using (var source = new SafeTensorsSource(SafeTensorsFile.Open(path)))
        {
            var error = Assert.ThrowsExactly<InvalidDataException>(() => CheckpointLoader.Load(model.NamedTensors(), source, CheckpointLayout.Exact, strict: false));
            StringAssert.Contains(error.Message, $"shape mismatch for 1 tensor(s): {tensors[0].Name}: stored (2, 2)");
        }
    }

    [TestMethod]
    public void ShardedSafetensorsAreJoinedThroughTheIndex()
    {
        var model = new Wav2Vec2ForCtc(TinyConfig(), new RandomSource(2));
        var named = model.NamedParameters().ToList();
        int half = named.Count / 2;
        SafeTensorsWriter.Write(Path.Combine(TempDirectory, "model-00001-of-00002.safetensors"), named.Take(half).Select(p => (p.Name, (Tensor)p.Parameter)));
        SafeTensorsWriter.Write(Path.Combine(TempDirectory, "model-00002-of-00002.safetensors"), named.Skip(half).Select(p => (p.Name, (Tensor)p.Parameter)));
        var map = named.Select((p, i) => $"\"{p.Name}\": \"model-0000{(i < half ? 1 : 2)}-of-00002.safetensors\"");
        File.WriteAllText(Path.Combine(TempDirectory, "model.safetensors.index.json"), $"{{\"metadata\": {{}}, \"weight_map\": {{{string.Join(",", map)}}}}}");
        File.WriteAllText(Path.Combine(TempDirectory, "config.json"), TinyConfig().ToJson());
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
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => TorchCheckpoint.Open(notZip)).Message, "not a PyTorch checkpoint (neither torch.save's zip format nor its legacy format)");
    }

    [TestMethod]
    public void TorchSaveFileReadsTheSameTensorsAsTheParityFixture()
    {
        using var checkpoint = TorchCheckpoint.Open(FixturePath("models", "stable_layer", "pytorch_model.bin"));
        Assert.IsTrue(checkpoint.Names.Contains("wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original1"));
        CollectionAssert.AreEqual(new[] { 32, 8, 15 }, checkpoint.Shape("wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original1"));
        Assert.AreEqual(24, checkpoint.Read("wav2vec2.feature_extractor.conv_layers.0.conv.bias").Length);
    }
}
