using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Wav2Vec2.IO;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.IO;

/// <summary>Issue 24: damaged checkpoints and configs fail with one line naming the file, before anything large is allocated.</summary>
[TestClass]
public sealed class CheckpointReliabilityTests : TempDirectoryTest
{
    [TestMethod]
    public void MetadataThatIsNotAnObjectIsNamed()
    {
        string path = WriteSafeTensors("""{"__metadata__":"x","w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]);
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => SafeTensorsFile.Open(path)), path, "__metadata__ must be an object of strings");
    }

    [TestMethod]
    public void AHeaderShiftedByOneByteIsRefusedAtLoad()
    {
        // One space more in the header (its length field agreeing) moves every weight a byte later.
        string path = WriteSafeTensors("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} """, [0, .. new byte[8]]);
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => SafeTensorsFile.Open(path)), path, "end at byte 8 of a 9-byte data section");
        string gap = WriteSafeTensors("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[5,9]}}""", new byte[9]);
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => SafeTensorsFile.Open(gap)), gap, "bytes 4-5 of the data section belong to no tensor");
    }

    [TestMethod]
    public void StackGlobalOnIntegersIsRefusedWithTheFileName()
    {
        // PROTO 2, BININT1 1, BININT1 2, STACK_GLOBAL, STOP.
        string path = WriteTorchZip(("archive/data.pkl", [0x80, 2, (byte)'K', 1, (byte)'K', 2, 0x93, (byte)'.']));
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => TorchCheckpoint.Open(path)), path, "STACK_GLOBAL expects a module and a name");
    }

    [TestMethod]
    public void AnAbsurdStringLengthIsRefusedWithTheFileName()
    {
        string path = WriteTorchZip(("archive/data.pkl", [0x80, 2, (byte)'X', 0xFF, 0xFF, 0xFF, 0xFF, (byte)'a', (byte)'.']));
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => TorchCheckpoint.Open(path)), path, "a length of 4294967295 bytes");
    }

    [TestMethod]
    public void TwoPicklesInOneArchiveAreRefused()
    {
        byte[] empty = [0x80, 2, (byte)'}', (byte)'.'];
        string path = WriteTorchZip(("a/data.pkl", empty), ("b/data.pkl", empty));
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => TorchCheckpoint.Open(path)), path, "2 data.pkl entries");
    }

    [TestMethod]
    [DataRow("num_hidden_layers", 1_000_000, "num_hidden_layers is 1000000 but the checkpoint stores 2 layers")]
    [DataRow("num_hidden_layers", 1000, "num_hidden_layers is 1000 but the checkpoint stores 2 layers")]
    [DataRow("intermediate_size", 5_000_000, "intermediate_size is 5000000 but the checkpoint's encoder.layers.0.feed_forward.intermediate_dense.weight has shape")]
    public void ConfigSizesBeyondTheWeightsFailBeforeTheModelIsBuilt(string field, int value, string expected)
    {
        new Wav2Vec2Model(TinyConfig(), new RandomSource(3)).SavePretrained(TempDirectory);
        string configPath = Path.Combine(TempDirectory, "config.json");
        JsonObject config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config[field] = value;
        File.WriteAllText(configPath, config.ToJsonString());
        var clock = Stopwatch.StartNew();
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2Model.FromPretrained(TempDirectory));
        Assert.IsLessThan(5.0, clock.Elapsed.TotalSeconds, "the size check runs before any allocation");
        AssertOneLine(error, configPath, expected);
    }

    [TestMethod]
    public void AHeadSizeBeyondTheWeightsFailsBeforeTheHeadIsBuilt()
    {
        Wav2Vec2Config tiny = TinyConfig();
        tiny.VocabSize = 12;
        new Wav2Vec2ForCtc(tiny, new RandomSource(3)).SavePretrained(TempDirectory);
        string configPath = Path.Combine(TempDirectory, "config.json");
        JsonObject config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["vocab_size"] = 1_000_000_000;   // 4 GB of lm_head per hidden unit
        File.WriteAllText(configPath, config.ToJsonString());
        var clock = Stopwatch.StartNew();
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Wav2Vec2ForCtc.FromPretrained(TempDirectory));
        Assert.IsLessThan(5.0, clock.Elapsed.TotalSeconds, "the size check runs before any allocation");
        AssertOneLine(error, configPath, "vocab_size is 1000000000 but the checkpoint's lm_head.weight has shape");
    }

    [TestMethod]
    public void MissingTensorsAreListedByTheFirstFewAndACount()
    {
        var model = new Wav2Vec2Model(TinyConfig(), new RandomSource(4));
        string path = Path.Combine(TempDirectory, "model.safetensors");
        SafeTensorsWriter.Write(path, [("unrelated", new Tensor(1))]);
        using var source = new SafeTensorsSource(SafeTensorsFile.Open(path));
        var error = Assert.ThrowsExactly<InvalidDataException>(() => CheckpointLoader.Load(model.NamedTensors(), source, CheckpointLayout.Exact));
        int count = model.NamedParameters().Count();
        StringAssert.Contains(error.Message, $"missing {count} tensor(s) in the checkpoint: ");
        StringAssert.Contains(error.Message, $"... ({count - 5} more)");
        Assert.IsLessThan(400, error.Message.Length);
    }

    private static void AssertOneLine(Exception error, string path, string expected)
    {
        StringAssert.Contains(error.Message, path);
        StringAssert.Contains(error.Message, expected);
        Assert.IsFalse(error.Message.Contains('\n'), error.Message);
    }

    private string WriteSafeTensors(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        string path = Path.Combine(TempDirectory, Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data]);
        return path;
    }

    private string WriteTorchZip(params (string Name, byte[] Bytes)[] entries)
    {
        string path = Path.Combine(TempDirectory, Guid.NewGuid().ToString("N") + ".bin");
        using ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using Stream stream = zip.CreateEntry(name).Open();
            stream.Write(bytes);
        }
        return path;
    }
}
